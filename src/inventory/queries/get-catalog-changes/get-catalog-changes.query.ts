import { Query } from '@nestjs/cqrs';
import type { CatalogChangeView } from '../../domain/catalog.js';

/** Who changed a product's catalog entry, when, and from what to what; newest first. */
export class GetCatalogChanges extends Query<CatalogChangeView[]> {
  constructor(readonly productId: string) {
    super();
  }
}
