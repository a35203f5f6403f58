import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProductState } from '../../domain/catalog.js';
import { InventoryError } from '../../domain/inventory.errors.js';
import { CatalogRepository } from '../../infrastructure/catalog.repository.js';
import { GetProduct } from './get-product.query.js';

@QueryHandler(GetProduct)
export class GetProductHandler implements IQueryHandler<GetProduct, ProductState> {
  constructor(private readonly catalog: CatalogRepository) {}

  async execute({ productId }: GetProduct): Promise<ProductState> {
    const state = await this.catalog.product(productId);
    if (!state) throw InventoryError.productNotFound(productId);
    return state;
  }
}
