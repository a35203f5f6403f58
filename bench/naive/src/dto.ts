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
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/** The same constraints as the service's POST /orders body. */
export class OrderItemDto {
  @Length(1, 64)
  @IsString()
  productId: string;

  @Min(1)
  @Max(1000)
  @IsInt()
  quantity: number;
}

export class PlaceOrderDto {
  @Length(1, 100)
  @IsString()
  customerId: string;

  @IsEmail()
  @MaxLength(254)
  @IsString()
  @IsOptional()
  customerEmail?: string;

  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique((item: OrderItemDto) => item?.productId, {
    message: 'items must not name the same productId twice',
  })
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  @IsObject({ each: true })
  @IsArray()
  items: OrderItemDto[];
}

export class UpsertProductDto {
  @Length(1, 200)
  @IsString()
  name: string;

  @Matches(/^\d{1,10}(\.\d{1,2})?$/)
  @IsString()
  unitPrice: string;

  @Min(0)
  @Max(1_000_000_000)
  @IsInt()
  available: number;
}
