import { DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** One line of an order is reserved. All lines of an order are reserved in one transaction. */
@EventType('InventoryReserved')
@DescribeEvent({ summary: 'One line of an order is reserved' })
export class InventoryReserved extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly productId: string,
    readonly quantity: number,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
