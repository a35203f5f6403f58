import {
  DescribeEvent,
  DomainEvent,
  EventType,
  NULLABLE_STRING,
} from '../../durable-cqrs/index.js';

/** Cancelled before payment completed (status CANCELLED, terminal); reserved stock is released. */
@EventType('OrderCancelled')
@DescribeEvent({
  summary: 'Cancelled before payment completed (status CANCELLED)',
  fields: {
    customerEmail: NULLABLE_STRING,
  },
})
export class OrderCancelled extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly reason: string,
    readonly previousStatus: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
