import { DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** The order could not be reserved as a whole; nothing was reserved. */
@EventType('InventoryInsufficient')
@DescribeEvent({ summary: 'The order could not be reserved as a whole; nothing was reserved' })
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
