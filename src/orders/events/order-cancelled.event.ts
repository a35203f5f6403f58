import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** Cancelled before payment completed (status CANCELLED, terminal); reserved stock is released. */
@EventType('OrderCancelled')
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
