import { Query } from '@nestjs/cqrs';
import type { ProductView } from '../../domain/reservation.js';

export class GetProduct extends Query<ProductView> {
  constructor(readonly productId: string) {
    super();
  }
}
