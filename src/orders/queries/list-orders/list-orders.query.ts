import { Query } from '@nestjs/cqrs';
import type { OrderStatus } from '../../domain/order-status.js';
import type { OrderView } from '../order.view.js';

export interface OrderPage {
  items: OrderView[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Orders, newest first, with cursor pagination. */
export class ListOrders extends Query<OrderPage> {
  constructor(
    readonly limit: number,
    readonly status?: OrderStatus,
    readonly customerId?: string,
    readonly cursor?: string,
  ) {
    super();
  }
}
