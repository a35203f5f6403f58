import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { IsIdentifier } from '../../../common/identifier.js';
import { identifierSchema } from '../../../common/openapi-identifiers.js';
import { ORDER_STATUSES, type OrderStatus } from '../../domain/order-status.js';

export class ListOrdersDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({ ...identifierSchema(100), description: "Only this customer's orders" })
  @IsOptional()
  @IsIdentifier(100)
  customerId?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @Min(1)
  @Max(100)
  @IsInt()
  limit?: number;

  @ApiPropertyOptional({
    description:
      'Opaque: the nextCursor of the previous page, as the service handed it out; any other ' +
      'value is refused (400, code ORDER_INVALID_CURSOR)',
    minLength: 1,
    maxLength: 500,
    pattern: '^[A-Za-z0-9_-]+$',
  })
  @IsOptional()
  @Length(1, 500)
  @IsString()
  cursor?: string;
}

export class OrderIdParam {
  @IsIdentifier(100)
  id: string;
}

export class CancelOrderDto {
  @ApiPropertyOptional({
    example: 'changed my mind',
    maxLength: 500,
    description:
      'Kept in the order and its event, never sent to the customer. Any text of well-formed ' +
      'Unicode (no lone surrogate: every string of every body is checked for that)',
  })
  @IsOptional()
  @MaxLength(500)
  @IsString()
  reason?: string;
}
