import { Command } from '@nestjs/cqrs';
import type { OrderState } from '../../domain/order.aggregate.js';

/** The customer cancels the order (allowed until payment completes). */
export class CancelOrder extends Command<OrderState> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
