import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsIdentifier } from './identifier.js';
import { identifierSchema } from './openapi-identifiers.js';

/** `?orderId=` on the listings of the payments and notifications modules. */
export class OrderIdFilterDto {
  @ApiPropertyOptional({ ...identifierSchema(100), description: 'Only what concerns this order' })
  @IsOptional()
  @IsIdentifier(100)
  orderId?: string;
}
