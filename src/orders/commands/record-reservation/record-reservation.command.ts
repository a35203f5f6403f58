import { Command } from '@nestjs/cqrs';

/** One line of the order is reserved in the inventory. */
export class RecordReservation extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly productId: string,
  ) {
    super();
  }
}
