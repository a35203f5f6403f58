import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** The customer was told the order failed or was cancelled. */
@EventType('OrderFailureNotificationSent')
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
