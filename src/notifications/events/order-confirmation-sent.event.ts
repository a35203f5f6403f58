import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** The customer was told the order completed. */
@EventType('OrderConfirmationSent')
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
