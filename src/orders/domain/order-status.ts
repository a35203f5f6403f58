/**
 * The order lifecycle, in one place: its statuses, the moves between them, and the sets read
 * from those moves. Everything else that knows about statuses reads them from here: the
 * aggregate, the progress read from the event log, the metrics, the repository, the tests, the
 * scripts' invariants (from the build) and the operator console (served as a module, see
 * console/lifecycle-script.ts). Adding a status means adding it here, to both tables below.
 */
export const OrderStatus = {
  PENDING: 'PENDING',
  VALIDATED: 'VALIDATED',
  INVENTORY_RESERVED: 'INVENTORY_RESERVED',
  PAYMENT_PROCESSING: 'PAYMENT_PROCESSING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;

export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** Every status, in the order the workflow goes through them (terminal ones last). */
export const ORDER_STATUSES: readonly OrderStatus[] = Object.values(OrderStatus);

/**
 * The moves the order may make, and no others: forward only, failure and cancellation from every
 * status that is still running, completion once stock is reserved (the payment may complete
 * before the order has noted that it started). A status with no moves out is terminal.
 */
export const TRANSITIONS = {
  PENDING: ['VALIDATED', 'FAILED', 'CANCELLED'],
  VALIDATED: ['INVENTORY_RESERVED', 'FAILED', 'CANCELLED'],
  INVENTORY_RESERVED: ['PAYMENT_PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'],
  PAYMENT_PROCESSING: ['COMPLETED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** A status the order never leaves. */
export type TerminalStatus = {
  [S in OrderStatus]: (typeof TRANSITIONS)[S] extends readonly [] ? S : never;
}[OrderStatus];

/** A status of an order that is still running. */
export type ActiveStatus = Exclude<OrderStatus, TerminalStatus>;

export function isTerminal(status: OrderStatus): status is TerminalStatus {
  return TRANSITIONS[status].length === 0;
}

/** The statuses an order ends in. */
export const TERMINAL_STATUSES: readonly TerminalStatus[] = ORDER_STATUSES.filter(isTerminal);

/** The statuses of running orders: every one but the terminal ones. */
export const ACTIVE_STATUSES: readonly ActiveStatus[] = ORDER_STATUSES.filter(
  (status): status is ActiveStatus => !isTerminal(status),
);

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return (TRANSITIONS[from] as readonly OrderStatus[]).includes(to);
}
