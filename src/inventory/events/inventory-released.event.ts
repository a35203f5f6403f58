import { DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

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
