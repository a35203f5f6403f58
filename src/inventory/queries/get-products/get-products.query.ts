import { Query } from '@nestjs/cqrs';
import type { ProductView } from '../../domain/reservation.js';

/** The catalog, or the given products of it (unknown ids are left out). */
export class GetProducts extends Query<ProductView[]> {
  constructor(readonly productIds?: string[]) {
    super();
  }
}
