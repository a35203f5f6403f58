import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { OrderError } from '../../domain/order.errors.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { toOrderView } from '../order.view.js';
import { ListOrders, type OrderPage } from './list-orders.query.js';

@QueryHandler(ListOrders)
export class ListOrdersHandler implements IQueryHandler<ListOrders, OrderPage> {
  constructor(private readonly orders: OrderRepository) {}

  async execute(query: ListOrders): Promise<OrderPage> {
    const states = await this.orders.list({
      status: query.status,
      customerId: query.customerId,
      limit: query.limit + 1,
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    });
    const page = states.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toOrderView),
      nextCursor:
        states.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new OrderError('ORDER_INVALID_CURSOR', 'cursor is not one this service handed out');
}
