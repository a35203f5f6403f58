import {
  AMOUNT,
  DescribeEvent,
  DomainEvent,
  EventType,
  type FieldSchema,
  NULLABLE_STRING,
} from '../../durable-cqrs/index.js';

export interface PricedLine {
  productId: string;
  quantity: number;
  /** Catalog price at validation, two decimals ("50.00"). */
  unitPrice: string;
}

const PRICED_LINE: FieldSchema = {
  type: 'object',
  properties: {
    productId: { type: 'string' },
    quantity: { type: 'integer', minimum: 1 },
    unitPrice: AMOUNT,
  },
  required: ['productId', 'quantity', 'unitPrice'],
  additionalProperties: false,
};

/** The order's lines were checked against the catalog. When valid, it carries the prices. */
@EventType('OrderValidated')
@DescribeEvent({
  summary: "The order's lines were checked against the catalog",
  fields: {
    reason: NULLABLE_STRING,
    items: { type: 'array', items: PRICED_LINE },
    totalAmount: { ...AMOUNT, type: ['string', 'null'] },
  },
})
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
