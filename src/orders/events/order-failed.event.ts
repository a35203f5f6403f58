import { DomainEvent, EventType } from '../../messaging/domain-event.js';
import { DescribeEvent, NULLABLE_STRING } from '../../messaging/event-schema.js';

/** The order could not be fulfilled (status FAILED, terminal). Reserved stock is already released. */
@EventType('OrderFailed')
@DescribeEvent({
  summary: 'The order could not be fulfilled (status FAILED)',
  fields: {
    customerEmail: NULLABLE_STRING,
  },
})
export class OrderFailed extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly reason: string,
    readonly previousStatus: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
