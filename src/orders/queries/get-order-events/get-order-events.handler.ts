import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../../messaging/event-store.js';
import { OrderError } from '../../domain/order.errors.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import type { OrderEventView } from '../order.view.js';
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
    return events.map((event) => ({
      seq: event.meta.seq,
      eventId: event.meta.eventId,
      type: event.meta.type,
      occurredAt: event.meta.occurredAt,
      correlationId: event.meta.correlationId,
      causationId: event.meta.causationId,
      traceparent: event.meta.traceparent,
      payload: JSON.parse(JSON.stringify(event)) as Record<string, unknown>,
    }));
  }
}
