import { DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** The customer was told the order failed or was cancelled. */
@EventType('OrderFailureNotificationSent')
@DescribeEvent({
  summary: 'The customer was told the order failed or was cancelled',
  fields: {
    recipient: { type: 'string', description: 'Empty once the customer is erased' },
  },
})
export class OrderFailureNotificationSent extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly notificationId: string,
    readonly recipient: string,
    /** What the customer was told: fixed wording, never the order's own reason. */
    readonly reason: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
