import { DomainEvent, EventType } from '../../messaging/domain-event.js';

/** Every line is reserved (status INVENTORY_RESERVED): the order is ready to be paid. */
@EventType('OrderProcessingStarted')
export class OrderProcessingStarted extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly totalAmount: string,
    readonly currency: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
