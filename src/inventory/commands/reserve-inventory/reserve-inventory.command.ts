import { Command } from '@nestjs/cqrs';
import type { StockLine } from '../../domain/reservation.js';

/** Reserve every line of an order, all or nothing. */
export class ReserveInventory extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly lines: StockLine[],
  ) {
    super();
  }
}
