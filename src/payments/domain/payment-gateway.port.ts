/** The payment provider, as the payments module sees it. */
export interface ChargeRequest {
  /** The same key always refers to the same charge: a retried call never charges twice. */
  idempotencyKey: string;
  /** Minor units. */
  amount: number;
  currency: string;
}

export type ChargeResult = { status: 'succeeded' } | { status: 'declined'; reason: string };

/**
 * The provider's port. `charge` resolves with a final answer (succeeded or declined) or throws
 * when the outcome is unknown (network error, provider unavailable): the caller retries with the
 * same idempotency key. The caller also gives up on a call that does not answer in time.
 */
export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** What the provider knows of a charge, without making one. */
  find(idempotencyKey: string): Promise<ChargeResult | undefined>;
  /**
   * Closes the key: a charge not made yet under it never will be, even one whose call is still
   * under way (it then answers declined). Returns the charge when it was made already, else
   * undefined. Like cancelling a provider's payment intent.
   */
  void(request: ChargeRequest): Promise<ChargeResult | undefined>;
  refund(idempotencyKey: string): Promise<void>;
}

/** The gateway did not answer within PAYMENT_TIMEOUT_MS; the outcome is unknown. */
export class PaymentGatewayTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`payment gateway did not answer within ${timeoutMs} ms`);
    this.name = 'PaymentGatewayTimeout';
  }
}

export const PAYMENT_GATEWAY = Symbol('PAYMENT_GATEWAY');

export const PaymentStatus = {
  PENDING: 'PENDING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  REFUNDED: 'REFUNDED',
} as const;

export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

export interface PaymentView {
  paymentId: string;
  orderId: string;
  amount: string;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}
