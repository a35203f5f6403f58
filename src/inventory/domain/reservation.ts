/**
 * An order's reservation, one per order, the authority for its stock:
 * RESERVED (every line taken), INSUFFICIENT (nothing taken), RELEASED (given back, or closed
 * before anything was taken), SOLD (the order completed). Only RESERVED moves on.
 */
export const ReservationStatus = {
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
