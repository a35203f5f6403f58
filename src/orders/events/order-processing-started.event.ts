import { AMOUNT, DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** Every line is reserved (status INVENTORY_RESERVED): the order is ready to be paid. */
@EventType('OrderProcessingStarted')
@DescribeEvent({
  summary: 'Every line is reserved: the order is ready to be paid',
  fields: {
    totalAmount: AMOUNT,
  },
})
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
