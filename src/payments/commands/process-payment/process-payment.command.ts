import { Command } from '@nestjs/cqrs';

/** Start paying for the order: record a pending payment for its total. */
export class ProcessPayment extends Command<void> {
  constructor(
    readonly orderId: string,
    /** Two decimals, "175.00". */
    readonly amount: string,
    readonly currency: string,
  ) {
    super();
  }
}
