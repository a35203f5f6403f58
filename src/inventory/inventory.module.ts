import { Module } from '@nestjs/common';
import { CommitReservationHandler } from './commands/commit-reservation/commit-reservation.handler.js';
import { ReleaseInventoryHandler } from './commands/release-inventory/release-inventory.handler.js';
import { ReserveInventoryHandler } from './commands/reserve-inventory/reserve-inventory.handler.js';
import { UpsertProductHandler } from './commands/upsert-product/upsert-product.handler.js';
import { InventoryController } from './http/inventory.controller.js';
import { StockRepository } from './infrastructure/stock.repository.js';
import { GetProductHandler } from './queries/get-product/get-product.handler.js';
import { GetProductsHandler } from './queries/get-products/get-products.handler.js';

const commandHandlers = [
  ReserveInventoryHandler,
  ReleaseInventoryHandler,
  CommitReservationHandler,
  UpsertProductHandler,
];
const queryHandlers = [GetProductsHandler, GetProductHandler];

@Module({
  controllers: [InventoryController],
  providers: [StockRepository, ...commandHandlers, ...queryHandlers],
})
export class InventoryModule {}
