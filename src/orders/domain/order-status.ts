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

export const ORDER_STATUSES = Object.values(OrderStatus);

/** Forward-only: each status's rank; terminal statuses never change again. */
const RANK: Record<OrderStatus, number> = {
  PENDING: 0,
  VALIDATED: 1,
  INVENTORY_RESERVED: 2,
  PAYMENT_PROCESSING: 3,
  COMPLETED: 4,
  FAILED: 4,
  CANCELLED: 4,
};

export function isTerminal(status: OrderStatus): boolean {
  return RANK[status] === 4;
}

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return !isTerminal(from) && RANK[to] > RANK[from];
}
