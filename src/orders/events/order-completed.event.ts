import {
  AMOUNT,
  DescribeEvent,
  DomainEvent,
  EventType,
  NULLABLE_STRING,
} from '../../durable-cqrs/index.js';

/** Paid and done (status COMPLETED, terminal). */
@EventType('OrderCompleted')
@DescribeEvent({
  summary: 'Paid and done (status COMPLETED)',
  fields: {
    customerEmail: NULLABLE_STRING,
    totalAmount: AMOUNT,
  },
})
export class OrderCompleted extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly totalAmount: string,
    readonly currency: string,
    readonly paymentId: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
