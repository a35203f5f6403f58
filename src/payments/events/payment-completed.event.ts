import { AMOUNT, DescribeEvent, DomainEvent, EventType } from '../../durable-cqrs/index.js';

/** The gateway charged the order's amount. */
@EventType('PaymentCompleted')
@DescribeEvent({
  summary: "The gateway charged the order's amount",
  fields: {
    amount: AMOUNT,
  },
})
export class PaymentCompleted extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: string,
    readonly currency: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
