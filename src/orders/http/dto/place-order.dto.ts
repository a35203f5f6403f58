import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsEmail,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsIdentifier } from '../../../common/identifier.js';
import { identifierSchema } from '../../../common/openapi-identifiers.js';
import { schemaExtensions } from '../../../common/openapi.js';

export class OrderItemDto {
  @ApiProperty({ example: 'product-1', ...identifierSchema(64) })
  @IsIdentifier(64)
  productId: string;

  @ApiProperty({ type: 'integer', example: 2, minimum: 1, maximum: 1000 })
  @Min(1)
  @Max(1000)
  @IsInt()
  quantity: number;
}

/**
 * Only the shape is checked here. Whether the products exist and are in stock is decided by the
 * workflow, and shows as a FAILED order with a failureReason.
 */
export class PlaceOrderDto {
  @ApiPropertyOptional({
    example: 'customer-42',
    ...identifierSchema(100),
    description:
      "A customer's own token names the customer (its sub); an admin places an order for any customer and must name it",
    ...schemaExtensions({ 'x-required-for-roles': ['admin'] }),
  })
  @IsIdentifier(100)
  // Left out is fine (a customer's token names it); null is not a customer id.
  @ValidateIf((_dto, value) => value !== undefined)
  customerId?: string;

  @ApiPropertyOptional({ example: 'ada@example.com', format: 'email', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  @IsString()
  @IsOptional()
  customerEmail?: string;

  @ApiProperty({
    type: [OrderItemDto],
    minItems: 1,
    maxItems: 100,
    description: 'Each productId at most once',
    ...schemaExtensions({ 'x-unique-by': 'productId' }),
  })
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique((item: OrderItemDto) => item?.productId, {
    message: 'items must not name the same productId twice',
  })
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  @IsObject({ each: true, message: 'each of items must be an object' })
  @IsArray()
  items: OrderItemDto[];
}
