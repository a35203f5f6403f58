import { Command } from '@nestjs/cqrs';
import type { OrderView } from '../../queries/order.view.js';

export interface PlaceOrderResult {
  order: OrderView;
  /** True when an earlier request with the same Idempotency-Key placed this order. */
  replayed: boolean;
}

/** The owner of the idempotency keys of requests without a principal. */
export const ANONYMOUS = 'anonymous';

export class PlaceOrder extends Command<PlaceOrderResult> {
  constructor(
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly items: Array<{ productId: string; quantity: number }>,
    /** Idempotency-Key header and a hash of the request body, when the client sent one. */
    readonly idempotency?: { key: string; requestHash: string },
    /**
     * Who sent the request (its principal's id: role, subject, issuer): idempotency keys are scoped to it, so
     * two principals using the same key place two orders.
     */
    readonly principal: string = ANONYMOUS,
  ) {
    super();
  }
}
