import { DomainEvent, EventType } from '../../messaging/domain-event.js';

export interface RequestedLine {
  productId: string;
  quantity: number;
}

/** An order was accepted (status PENDING). Prices are not known yet: the catalog decides. */
@EventType('OrderCreated')
export class OrderCreated extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly items: RequestedLine[],
    readonly currency: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
