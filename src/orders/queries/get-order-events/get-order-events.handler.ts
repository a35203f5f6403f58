import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../../durable-cqrs/index.js';
import { OrderError } from '../../domain/order.errors.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { toOrderEventView, type OrderEventView } from '../order.view.js';
import { GetOrderEvents } from './get-order-events.query.js';

@QueryHandler(GetOrderEvents)
export class GetOrderEventsHandler implements IQueryHandler<GetOrderEvents, OrderEventView[]> {
  constructor(
    private readonly orders: OrderRepository,
    private readonly events: EventStore,
  ) {}

  async execute({ orderId }: GetOrderEvents): Promise<OrderEventView[]> {
    if (!(await this.orders.find(orderId))) throw OrderError.notFound(orderId);
    const events = await this.events.readStream(orderId);
    return events.map(toOrderEventView);
  }
}
