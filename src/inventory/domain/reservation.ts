/**
 * An order's reservation, one per order, the authority for its stock:
 * RESERVED (every line taken), INSUFFICIENT (nothing taken), RELEASED (given back, or closed
 * before anything was taken), SOLD (the order completed). Only RESERVED moves on.
 */
export const ReservationStatus = {
  /**
   * While the unit that reserves takes the stock, never once it has committed: a release of the
   * same order in the same transaction (a PostgreSQL group: no row lock between them) sees that
   * nothing is held yet.
   */
  TAKING: 'TAKING',
  RESERVED: 'RESERVED',
  INSUFFICIENT: 'INSUFFICIENT',
  RELEASED: 'RELEASED',
  SOLD: 'SOLD',
} as const;

export type ReservationStatus = (typeof ReservationStatus)[keyof typeof ReservationStatus];

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface ProductView {
  productId: string;
  name: string;
  /** Two decimals, "50.00". */
  unitPrice: string;
  available: number;
  reserved: number;
  sold: number;
}
