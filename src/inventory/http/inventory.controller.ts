import { Roles } from '../../auth/auth.guards.js';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOkResponse, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiBodyProblems, ApiDoc, ApiProblems } from '../../common/openapi.js';
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
import {
  PRODUCT_ID_PATTERN,
  ProductDto,
  ProductIdParam,
  UpsertProductDto,
} from './dto/upsert-product.dto.js';
import { entityTag, parseIfMatch } from './entity-tag.js';

const ApiProductId = () =>
  ApiParam({
    name: 'productId',
    schema: { type: 'string', pattern: PRODUCT_ID_PATTERN.source, example: 'product-1' },
  });

const ETAG_HEADER = {
  ETag: {
    required: true,
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
  @ApiDoc(
    'The catalog with stock levels',
    'Every product with its available, reserved and sold quantities.',
  )
  @ApiOkResponse({ type: ProductDto, isArray: true })
  list(): Promise<ProductView[]> {
    return this.queryBus.execute(new GetProducts());
  }

  @Get(':productId')
  @ApiDoc('One product with its stock', 'Its ETag is what a conditional PUT sends in If-Match.')
  @ApiProductId()
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    schema: { type: 'string', example: '"3"' },
    description: 'An ETag read before: 304 without a body while the product has not changed',
  })
  @ApiOkResponse({ type: ProductDto, headers: ETAG_HEADER })
  @ApiResponse({ status: 304, description: 'Not changed since the ETag of If-None-Match' })
  @ApiProblems([400, 'The productId is not valid'], [404, 'Unknown product'])
  async get(
    @Param() { productId }: ProductIdParam,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ProductView> {
    return tagged(response, await this.queryBus.execute(new GetProduct(productId)));
  }

  @Put(':productId')
  @Roles('admin')
  @ApiDoc(
    'Add a product, or set its name, price and available stock',
    'Reserved and sold quantities are kept. Every change is in the audit.',
  )
  @ApiProductId()
  @ApiHeader({
    name: 'If-Match',
    required: false,
    schema: { type: 'string', example: '"3"' },
    description:
      'The ETag of the product as last read: the change is made only if the product has not ' +
      'changed since (any reservation or sale changes it too), otherwise 412. `*` requires that ' +
      'the product exists. Without the header the PUT is unconditional.',
  })
  @ApiOkResponse({ type: ProductDto, headers: ETAG_HEADER })
  @ApiBodyProblems()
  @ApiProblems([
    412,
    'If-Match does not match the current ETag, or the product does not exist: nothing was ' +
      'changed (code PRODUCT_PRECONDITION_FAILED)',
  ])
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
  @ApiDoc(
    'Add to or take from the available stock, keeping reservations made meanwhile',
    'Unlike a PUT, needs no If-Match: the delta applies to whatever the stock is now.',
  )
  @ApiProductId()
  @ApiOkResponse({ type: ProductDto, description: 'The product after the adjustment' })
  @ApiBodyProblems()
  @ApiProblems(
    [404, 'Unknown product'],
    [
      409,
      'The available stock would go below zero: nothing was changed (code ' +
        'PRODUCT_STOCK_TOO_LOW, with the current `available`)',
    ],
  )
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
  @ApiDoc(
    "Who changed the product's catalog entry, from what to what",
    'Admins only: it names who made each change.',
  )
  @ApiProductId()
  @ApiOkResponse({
    type: CatalogChangeDto,
    isArray: true,
    description: 'Every PUT and adjustment of the product, newest first',
  })
  @ApiProblems([400, 'The productId is not valid'], [404, 'Unknown product'])
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
