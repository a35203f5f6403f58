import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min, NotEquals } from 'class-validator';

export class AdjustStockDto {
  @ApiProperty({
    type: 'integer',
    example: 25,
    minimum: -1_000_000_000,
    maximum: 1_000_000_000,
    description: 'Added to the available stock; negative takes stock away. Not zero.',
    not: { enum: [0] },
  })
  @NotEquals(0)
  @Min(-1_000_000_000)
  @Max(1_000_000_000)
  @IsInt()
  delta: number;

  @ApiProperty({ example: 'restock', minLength: 1, maxLength: 200 })
  @Length(1, 200)
  @IsString()
  reason: string;
}

class CatalogFieldsDto {
  @ApiProperty({ example: 'Widget' }) name: string;
  @ApiProperty({ example: '50.00' }) unitPrice: string;
  @ApiProperty({ type: 'integer', example: 100 }) available: number;
}

export class CatalogChangeDto {
  @ApiProperty({ example: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' }) id: string;
  @ApiProperty({ example: 'product-1' }) productId: string;
  @ApiProperty({
    type: 'integer',
    example: 4,
    description: 'The product version (ETag) this change produced',
  })
  version: number;
  @ApiProperty({ enum: ['put', 'adjust'] }) kind: string;
  @ApiProperty({ example: 'admin-1', description: 'Who made the change, or "anonymous"' })
  actor: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-22T15:56:43.214Z' }) changedAt: string;
  @ApiProperty({
    type: CatalogFieldsDto,
    nullable: true,
    description: 'Null when the change created the product',
  })
  before: CatalogFieldsDto | null;
  @ApiProperty({ type: CatalogFieldsDto }) after: CatalogFieldsDto;
  @ApiProperty({ type: 'integer', example: 25, nullable: true, description: 'Adjustments only' })
  delta: number | null;
  @ApiProperty({
    type: String,
    example: 'restock',
    nullable: true,
    description: 'Adjustments only',
  })
  reason: string | null;
}
