import { DomainEvent, EventType } from '../../messaging/domain-event.js';
import { DescribeEvent } from '../../messaging/event-schema.js';

/** A reserved line went back to available stock (compensation or cancellation). */
@EventType('InventoryReleased')
@DescribeEvent({ summary: 'A reserved line went back to available stock' })
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
