import { TracedCommand } from '../../../messaging/traced-command.js';
import type { OrderState } from '../../domain/order.aggregate.js';

/** The customer cancels the order (allowed until payment completes). */
export class CancelOrder extends TracedCommand<OrderState> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
