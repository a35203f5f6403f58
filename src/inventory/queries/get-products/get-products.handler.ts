import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProductView } from '../../domain/reservation.js';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { GetProducts } from './get-products.query.js';

@QueryHandler(GetProducts)
export class GetProductsHandler implements IQueryHandler<GetProducts, ProductView[]> {
  constructor(private readonly stock: StockRepository) {}

  execute({ productIds }: GetProducts): Promise<ProductView[]> {
    return this.stock.products(productIds);
  }
}
