import { Module } from '@nestjs/common';
import { AdjustStockHandler } from './commands/adjust-stock/adjust-stock.handler.js';
import { CommitReservationHandler } from './commands/commit-reservation/commit-reservation.handler.js';
import { ReleaseInventoryHandler } from './commands/release-inventory/release-inventory.handler.js';
import { ReserveInventoryHandler } from './commands/reserve-inventory/reserve-inventory.handler.js';
import { UpsertProductHandler } from './commands/upsert-product/upsert-product.handler.js';
import { InventoryController } from './http/inventory.controller.js';
import { CatalogRepository } from './infrastructure/catalog.repository.js';
import { StockRepository } from './infrastructure/stock.repository.js';
import { GetCatalogChangesHandler } from './queries/get-catalog-changes/get-catalog-changes.handler.js';
import { GetProductHandler } from './queries/get-product/get-product.handler.js';
import { GetProductsHandler } from './queries/get-products/get-products.handler.js';

const commandHandlers = [
  ReserveInventoryHandler,
  ReleaseInventoryHandler,
  CommitReservationHandler,
  UpsertProductHandler,
  AdjustStockHandler,
];
const queryHandlers = [GetProductsHandler, GetProductHandler, GetCatalogChangesHandler];

@Module({
  controllers: [InventoryController],
  providers: [StockRepository, CatalogRepository, ...commandHandlers, ...queryHandlers],
})
export class InventoryModule {}
