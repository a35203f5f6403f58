import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** A charge for the order is about to be sent to the gateway under this idempotency key. */
@EventType('PaymentInitiated')
export class PaymentInitiated extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: string,
    readonly currency: string,
    readonly idempotencyKey: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
