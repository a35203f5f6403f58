import { Command } from '@nestjs/cqrs';

/** The order's payment succeeded. */
export class CompleteOrder extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
  ) {
    super();
  }
}
