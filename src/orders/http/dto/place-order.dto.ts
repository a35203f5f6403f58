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
  ValidateNested,
} from 'class-validator';
import { IsIdentifier } from '../../../common/identifier.js';

export class OrderItemDto {
  @ApiProperty({ example: 'product-1', minLength: 1, maxLength: 64 })
  @IsIdentifier(64)
  productId: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: 1000 })
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
  @ApiProperty({ example: 'customer-42', minLength: 1, maxLength: 100 })
  @IsIdentifier(100)
  customerId: string;

  @ApiPropertyOptional({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  @IsString()
  @IsOptional()
  customerEmail?: string;

  @ApiProperty({ type: [OrderItemDto], minItems: 1, maxItems: 100 })
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
