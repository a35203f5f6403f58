import { Command } from '@nestjs/cqrs';

/** Give back a completed charge of an order that was closed before the charge arrived. */
export class RefundPayment extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
