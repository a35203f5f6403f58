import { Query } from '@nestjs/cqrs';
import type { ProductState } from '../../domain/catalog.js';

export class GetProduct extends Query<ProductState> {
  constructor(readonly productId: string) {
    super();
  }
}
