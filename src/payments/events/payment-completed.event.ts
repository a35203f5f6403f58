import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** The gateway charged the order's amount. */
@EventType('PaymentCompleted')
export class PaymentCompleted extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: string,
    readonly currency: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
