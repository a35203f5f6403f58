import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** The order could not be fulfilled (status FAILED, terminal). Reserved stock is already released. */
@EventType('OrderFailed')
export class OrderFailed extends DomainEvent {
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
