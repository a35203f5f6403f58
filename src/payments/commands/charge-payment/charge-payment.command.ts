import { Command } from '@nestjs/cqrs';

/** Send the pending payment to the gateway and record the outcome. */
export class ChargePayment extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
  ) {
    super();
  }
}
