import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { CatalogChangeView } from '../../domain/catalog.js';
import { InventoryError } from '../../domain/inventory.errors.js';
import { CatalogRepository } from '../../infrastructure/catalog.repository.js';
import { GetCatalogChanges } from './get-catalog-changes.query.js';

@QueryHandler(GetCatalogChanges)
export class GetCatalogChangesHandler implements IQueryHandler<
  GetCatalogChanges,
  CatalogChangeView[]
> {
  constructor(private readonly catalog: CatalogRepository) {}

  async execute({ productId }: GetCatalogChanges): Promise<CatalogChangeView[]> {
    const changes = await this.catalog.changes(productId);
    if (!changes) throw InventoryError.productNotFound(productId);
    return changes;
  }
}
