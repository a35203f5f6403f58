import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import { AppConfig } from '../../../config/app-config.js';
import { InventoryError } from '../../domain/inventory.errors.js';
import type { ProductView } from '../../domain/reservation.js';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { UpsertProduct } from './upsert-product.command.js';

@CommandHandler(UpsertProduct)
export class UpsertProductHandler implements ICommandHandler<UpsertProduct, ProductView> {
  constructor(
    private readonly stock: StockRepository,
    private readonly config: AppConfig,
  ) {}

  async execute(command: UpsertProduct): Promise<ProductView> {
    const unitPrice = toMinor(command.unitPrice);
    if (unitPrice > toMinor(this.config.maxUnitPrice)) {
      throw InventoryError.priceAboveMaximum(command.unitPrice, this.config.maxUnitPrice);
    }
    await this.stock.upsert(command.productId, command.name, unitPrice, command.available);
    const [product] = await this.stock.products([command.productId]);
    return product;
  }
}
