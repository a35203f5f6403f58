import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** A reserved line went back to available stock (compensation or cancellation). */
@EventType('InventoryReleased')
export class InventoryReleased extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly productId: string,
    readonly quantity: number,
    readonly reason: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
