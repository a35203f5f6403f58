import { DomainEvent, EventType } from '../../messaging/domain-event.js';
import { DescribeEvent, AMOUNT } from '../../messaging/event-schema.js';

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
