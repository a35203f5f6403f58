import { Command } from '@nestjs/cqrs';
import type { ProductState, VersionCondition } from '../../domain/catalog.js';

/**
 * Add a product to the catalog, or set its name, price and available stock; only if its version
 * satisfies the condition, when there is one.
 */
export class UpsertProduct extends Command<ProductState> {
  constructor(
    readonly productId: string,
    readonly name: string,
    /** Two decimals, "20.00". */
    readonly unitPrice: string,
    readonly available: number,
    readonly condition: VersionCondition | undefined,
    /** Who asks, for the audit. */
    readonly actor: string,
  ) {
    super();
  }
}
