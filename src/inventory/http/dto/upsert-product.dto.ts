import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { DECIMAL_AMOUNT_PATTERN } from '../../../common/money.js';
import { schemaExtensions } from '../../../common/openapi.js';

/** A catalog product id: letters, digits, `.`, `_` and `-`, but not `.` or `..` alone (a path cannot carry them). */
export const PRODUCT_ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._-]{1,64}$/;

export class ProductIdParam {
  @ApiProperty({ example: 'product-1', pattern: PRODUCT_ID_PATTERN.source })
  @Matches(PRODUCT_ID_PATTERN, {
    message: 'productId must be 1 to 64 letters, digits, dots, dashes or underscores',
  })
  productId: string;
}

export class UpsertProductDto {
  @ApiProperty({ example: 'Gizmo', minLength: 1, maxLength: 200 })
  @Length(1, 200)
  @IsString()
  name: string;

  @ApiProperty({
    example: '20.00',
    pattern: DECIMAL_AMOUNT_PATTERN.source,
    description: 'Price with at most two decimals, as a string; at most MAX_UNIT_PRICE (x-maximum)',
    ...schemaExtensions({ 'x-maximum': 'MAX_UNIT_PRICE' }),
  })
  @Matches(DECIMAL_AMOUNT_PATTERN, {
    message: 'unitPrice must be a decimal string with at most two decimals, like "20.00"',
  })
  @IsString()
  unitPrice: string;

  @ApiProperty({ type: 'integer', example: 25, minimum: 0, maximum: 1_000_000_000 })
  @Min(0)
  @Max(1_000_000_000)
  @IsInt()
  available: number;
}

export class ProductDto {
  @ApiProperty({ example: 'product-1' }) productId: string;
  @ApiProperty({ example: 'Widget' }) name: string;
  @ApiProperty({ example: '50.00' }) unitPrice: string;
  @ApiProperty({ type: 'integer', example: 100 }) available: number;
  @ApiProperty({ type: 'integer', example: 0 }) reserved: number;
  @ApiProperty({ type: 'integer', example: 0 }) sold: number;
}
