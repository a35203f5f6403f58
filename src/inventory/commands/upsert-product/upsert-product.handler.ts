import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import type { ProductState } from '../../domain/catalog.js';
import { CatalogRepository } from '../../infrastructure/catalog.repository.js';
import { UpsertProduct } from './upsert-product.command.js';

@CommandHandler(UpsertProduct)
export class UpsertProductHandler implements ICommandHandler<UpsertProduct, ProductState> {
  constructor(private readonly catalog: CatalogRepository) {}

  execute(command: UpsertProduct): Promise<ProductState> {
    return this.catalog.put(
      {
        productId: command.productId,
        name: command.name,
        unitPrice: toMinor(command.unitPrice),
        available: command.available,
      },
      command.condition,
      command.actor,
    );
  }
}
