import {
  DescribeEvent,
  DomainEvent,
  EventType,
  type FieldSchema,
  NULLABLE_STRING,
} from '../../durable-cqrs/index.js';

export interface RequestedLine {
  productId: string;
  quantity: number;
}

export const REQUESTED_LINE: FieldSchema = {
  type: 'object',
  properties: { productId: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
  required: ['productId', 'quantity'],
  additionalProperties: false,
};

/** An order was accepted (status PENDING). Prices are not known yet: the catalog decides. */
@EventType('OrderCreated')
@DescribeEvent({
  summary: 'An order was accepted (status PENDING)',
  fields: {
    customerEmail: NULLABLE_STRING,
    items: { type: 'array', items: REQUESTED_LINE },
  },
})
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
