import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import type { ProductView } from '../../domain/reservation.js';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { UpsertProduct } from './upsert-product.command.js';

@CommandHandler(UpsertProduct)
export class UpsertProductHandler implements ICommandHandler<UpsertProduct, ProductView> {
  constructor(private readonly stock: StockRepository) {}

  async execute(command: UpsertProduct): Promise<ProductView> {
    await this.stock.upsert(
      command.productId,
      command.name,
      toMinor(command.unitPrice),
      command.available,
    );
    const [product] = await this.stock.products([command.productId]);
    return product;
  }
}
