import { DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** The customer was told the order completed. */
@EventType('OrderConfirmationSent')
@DescribeEvent({
  summary: 'The customer was told the order completed',
  fields: {
    recipient: { type: 'string', description: 'Empty once the customer is erased' },
  },
})
export class OrderConfirmationSent extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly notificationId: string,
    readonly recipient: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
