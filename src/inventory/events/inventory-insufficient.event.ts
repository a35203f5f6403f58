import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** The order could not be reserved as a whole; nothing was reserved. */
@EventType('InventoryInsufficient')
export class InventoryInsufficient extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly productId: string,
    readonly requested: number,
    readonly available: number,
    readonly reason: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
