import { AMOUNT, DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** A charge for the order is about to be sent to the gateway under this idempotency key. */
@EventType('PaymentInitiated')
@DescribeEvent({
  summary: 'A charge for the order is about to be sent to the gateway',
  fields: {
    amount: AMOUNT,
  },
})
export class PaymentInitiated extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: string,
    readonly currency: string,
    readonly idempotencyKey: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
