import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ProductState } from '../../domain/catalog.js';
import { CatalogRepository } from '../../infrastructure/catalog.repository.js';
import { AdjustStock } from './adjust-stock.command.js';

@CommandHandler(AdjustStock)
export class AdjustStockHandler implements ICommandHandler<AdjustStock, ProductState> {
  constructor(private readonly catalog: CatalogRepository) {}

  execute({ productId, delta, reason, actor }: AdjustStock): Promise<ProductState> {
    return this.catalog.adjust(productId, delta, reason, actor);
  }
}
