import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { OrderError } from '../../domain/order.errors.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { toOrderView, type OrderView } from '../order.view.js';
import { GetOrder } from './get-order.query.js';

@QueryHandler(GetOrder)
export class GetOrderHandler implements IQueryHandler<GetOrder, OrderView> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId }: GetOrder): Promise<OrderView> {
    const state = await this.orders.find(orderId);
    if (!state) throw OrderError.notFound(orderId);
    return toOrderView(state);
  }
}
