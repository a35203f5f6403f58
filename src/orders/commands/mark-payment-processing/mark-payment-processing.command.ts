import { Command } from '@nestjs/cqrs';

/** The payment for the order has been initiated. */
export class MarkPaymentProcessing extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}
