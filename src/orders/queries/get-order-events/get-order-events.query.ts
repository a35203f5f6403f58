import { Query } from '@nestjs/cqrs';
import type { OrderEventView } from '../order.view.js';

/** The order's whole story from the event log, in the order it happened. */
export class GetOrderEvents extends Query<OrderEventView[]> {
  constructor(readonly orderId: string) {
    super();
  }
}
