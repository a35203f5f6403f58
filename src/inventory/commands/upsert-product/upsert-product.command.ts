import { Command } from '@nestjs/cqrs';
import type { ProductView } from '../../domain/reservation.js';

/** Add a product to the catalog, or set its name, price and available stock. */
export class UpsertProduct extends Command<ProductView> {
  constructor(
    readonly productId: string,
    readonly name: string,
    /** Two decimals, "20.00". */
    readonly unitPrice: string,
    readonly available: number,
  ) {
    super();
  }
}
