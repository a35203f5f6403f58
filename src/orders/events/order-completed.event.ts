import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** Paid and done (status COMPLETED, terminal). */
@EventType('OrderCompleted')
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
