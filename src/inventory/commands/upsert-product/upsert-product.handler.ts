import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import { AppConfig } from '../../../config/app-config.js';
import type { ProductState } from '../../domain/catalog.js';
import { InventoryError } from '../../domain/inventory.errors.js';
import { CatalogRepository } from '../../infrastructure/catalog.repository.js';
import { UpsertProduct } from './upsert-product.command.js';

@CommandHandler(UpsertProduct)
export class UpsertProductHandler implements ICommandHandler<UpsertProduct, ProductState> {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly config: AppConfig,
  ) {}

  execute(command: UpsertProduct): Promise<ProductState> {
    const unitPrice = toMinor(command.unitPrice);
    if (unitPrice > toMinor(this.config.maxUnitPrice)) {
      throw InventoryError.priceAboveMaximum(command.unitPrice, this.config.maxUnitPrice);
    }
    return this.catalog.put(
      {
        productId: command.productId,
        name: command.name,
        unitPrice,
        available: command.available,
      },
      command.condition,
      command.actor,
    );
  }
}
