import { AMOUNT, DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** The gateway did not charge the order (declined, or no answer in time). */
@EventType('PaymentFailed')
@DescribeEvent({
  summary: 'The gateway did not charge the order',
  fields: {
    amount: AMOUNT,
  },
})
export class PaymentFailed extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: string,
    readonly reason: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
