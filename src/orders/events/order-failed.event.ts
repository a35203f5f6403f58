import {
  DescribeEvent,
  DomainEvent,
  EventType,
  NULLABLE_STRING,
} from '../../durable-cqrs/index.js';

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
