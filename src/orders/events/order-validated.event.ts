import { DomainEvent, EventType } from '../../messaging/domain-event.js';

export interface PricedLine {
  productId: string;
  quantity: number;
  /** Catalog price at validation, two decimals ("50.00"). */
  unitPrice: string;
}

/** The order's lines were checked against the catalog. When valid, it carries the prices. */
@EventType('OrderValidated')
export class OrderValidated extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly isValid: boolean,
    readonly reason: string | null,
    readonly items: PricedLine[],
    readonly totalAmount: string | null,
    readonly currency: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}
