import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

/** `?orderId=` on the listings of the payments and notifications modules. */
export class OrderIdFilterDto {
  @ApiPropertyOptional({ description: 'Only what concerns this order' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  orderId?: string;
}
