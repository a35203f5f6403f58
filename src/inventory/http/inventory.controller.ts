import { Roles } from '../../auth/auth.guards.js';
import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UpsertProduct } from '../commands/upsert-product/upsert-product.command.js';
import type { ProductView } from '../domain/reservation.js';
import { GetProduct } from '../queries/get-product/get-product.query.js';
import { GetProducts } from '../queries/get-products/get-products.query.js';
import { ProductDto, ProductIdParam, UpsertProductDto } from './dto/upsert-product.dto.js';

@ApiTags('inventory')
@Controller('inventory')
export class InventoryController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The catalog with stock levels' })
  @ApiOkResponse({ type: ProductDto, isArray: true })
  list(): Promise<ProductView[]> {
    return this.queryBus.execute(new GetProducts());
  }

  @Get(':productId')
  @ApiOperation({ summary: 'One product with its stock' })
  @ApiOkResponse({ type: ProductDto })
  @ApiNotFoundResponse({ description: 'Unknown product' })
  get(@Param() { productId }: ProductIdParam): Promise<ProductView> {
    return this.queryBus.execute(new GetProduct(productId));
  }

  @Put(':productId')
  @Roles('admin')
  @ApiOperation({ summary: 'Add a product, or set its name, price and available stock' })
  @ApiOkResponse({ type: ProductDto })
  upsert(
    @Param() { productId }: ProductIdParam,
    @Body() body: UpsertProductDto,
  ): Promise<ProductView> {
    return this.commandBus.execute(
      new UpsertProduct(productId, body.name, body.unitPrice, body.available),
    );
  }
}
