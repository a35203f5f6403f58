import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InventoryError } from '../../domain/inventory.errors.js';
import type { ProductView } from '../../domain/reservation.js';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { GetProduct } from './get-product.query.js';

@QueryHandler(GetProduct)
export class GetProductHandler implements IQueryHandler<GetProduct, ProductView> {
  constructor(private readonly stock: StockRepository) {}

  async execute({ productId }: GetProduct): Promise<ProductView> {
    const [product] = await this.stock.products([productId]);
    if (!product) throw InventoryError.productNotFound(productId);
    return product;
  }
}
