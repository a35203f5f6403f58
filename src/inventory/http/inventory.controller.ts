import { Roles } from '../../auth/auth.guards.js';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { AdjustStock } from '../commands/adjust-stock/adjust-stock.command.js';
import { UpsertProduct } from '../commands/upsert-product/upsert-product.command.js';
import type { CatalogChangeView, ProductState } from '../domain/catalog.js';
import type { ProductView } from '../domain/reservation.js';
import { GetCatalogChanges } from '../queries/get-catalog-changes/get-catalog-changes.query.js';
import { GetProduct } from '../queries/get-product/get-product.query.js';
import { GetProducts } from '../queries/get-products/get-products.query.js';
import { AdjustStockDto, CatalogChangeDto } from './dto/catalog.dto.js';
import { ProductDto, ProductIdParam, UpsertProductDto } from './dto/upsert-product.dto.js';
import { entityTag, parseIfMatch } from './entity-tag.js';

const ETAG_HEADER = {
  ETag: {
    description: "Strong tag of the product's current version; send it back in If-Match",
    schema: { type: 'string', example: '"3"' },
  },
};

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
  @ApiOkResponse({ type: ProductDto, headers: ETAG_HEADER })
  @ApiNotFoundResponse({ description: 'Unknown product' })
  async get(
    @Param() { productId }: ProductIdParam,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProductView> {
    return tagged(response, await this.queryBus.execute(new GetProduct(productId)));
  }

  @Put(':productId')
  @Roles('admin')
  @ApiOperation({ summary: 'Add a product, or set its name, price and available stock' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'The ETag of the product as last read: the change is made only if the product has not ' +
      'changed since (any reservation or sale changes it too), otherwise 412. `*` requires that ' +
      'the product exists. Without the header the PUT is unconditional.',
  })
  @ApiOkResponse({ type: ProductDto, headers: ETAG_HEADER })
  @ApiBadRequestResponse({ description: 'The request is not valid (problem+json)' })
  @ApiPreconditionFailedResponse({
    description:
      'If-Match does not match the current ETag, or the product does not exist: nothing was ' +
      'changed (problem+json, code PRODUCT_PRECONDITION_FAILED)',
  })
  async upsert(
    @Param() { productId }: ProductIdParam,
    @Body() body: UpsertProductDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProductView> {
    const state = await this.commandBus.execute(
      new UpsertProduct(
        productId,
        body.name,
        body.unitPrice,
        body.available,
        parseIfMatch(ifMatch),
        actorOf(principal),
      ),
    );
    return tagged(response, state);
  }

  @Post(':productId/adjustments')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add to or take from the available stock, keeping reservations made meanwhile',
  })
  @ApiOkResponse({ type: ProductDto, description: 'The product after the adjustment' })
  @ApiBadRequestResponse({ description: 'The request is not valid (problem+json)' })
  @ApiNotFoundResponse({ description: 'Unknown product (problem+json)' })
  @ApiConflictResponse({
    description:
      'The available stock would go below zero: nothing was changed (problem+json, code ' +
      'PRODUCT_STOCK_TOO_LOW, with the current `available`)',
  })
  async adjust(
    @Param() { productId }: ProductIdParam,
    @Body() body: AdjustStockDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<ProductView> {
    const state = await this.commandBus.execute(
      new AdjustStock(productId, body.delta, body.reason, actorOf(principal)),
    );
    return state.product;
  }

  // Admins only: it names who changed the catalog.
  @Get(':productId/audit')
  @Roles('admin')
  @ApiOperation({ summary: "Who changed the product's catalog entry, from what to what" })
  @ApiOkResponse({
    type: CatalogChangeDto,
    isArray: true,
    description: 'Every PUT and adjustment of the product, newest first',
  })
  @ApiNotFoundResponse({ description: 'Unknown product (problem+json)' })
  audit(@Param() { productId }: ProductIdParam): Promise<CatalogChangeView[]> {
    return this.queryBus.execute(new GetCatalogChanges(productId));
  }
}

/** Who made a change, for the audit: the principal, or `anonymous` on an open route. */
function actorOf(principal: Principal | undefined): string {
  return principal?.sub ?? 'anonymous';
}

/** The product, with its ETag on the response. */
function tagged(response: Response, { product, version }: ProductState): ProductView {
  response.setHeader('ETag', entityTag(version));
  return product;
}
