import { Command } from '@nestjs/cqrs';
import type { ProductState } from '../../domain/catalog.js';

/** Add to (or, with a negative delta, take from) a product's available stock. */
export class AdjustStock extends Command<ProductState> {
  constructor(
    readonly productId: string,
    readonly delta: number,
    readonly reason: string,
    /** Who asks, for the audit. */
    readonly actor: string,
  ) {
    super();
  }
}
