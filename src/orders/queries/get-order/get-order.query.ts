import { Query } from '@nestjs/cqrs';
import type { OrderView } from '../order.view.js';

/** One order; ORDER_NOT_FOUND if there is none. */
export class GetOrder extends Query<OrderView> {
  constructor(readonly orderId: string) {
    super();
  }
}
