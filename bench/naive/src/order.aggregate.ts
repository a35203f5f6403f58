import { AggregateRoot } from '@nestjs/cqrs';
import {
  OrderCompleted,
  OrderCreated,
  OrderFailed,
  OrderProcessingStarted,
  OrderValidated,
  type OrderLine,
} from './events.js';

export type OrderStatus =
  'PENDING' | 'VALIDATED' | 'INVENTORY_RESERVED' | 'PAYMENT_PROCESSING' | 'COMPLETED' | 'FAILED';

export interface PricedLine extends OrderLine {
  /** Minor units; null until the catalog has priced the line. */
  unitPrice: number | null;
}

export interface OrderState {
  id: string;
  customerId: string;
  customerEmail: string | null;
  status: OrderStatus;
  items: PricedLine[];
  totalAmount: number | null;
  currency: string;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * The order, written the way the @nestjs/cqrs documentation shows: apply() now, commit() later.
 * Every command handler works on an instance of its own, made from the stored state: the sagas
 * run the next command inside commit(), before it has cleared its events, so one shared instance
 * would publish its events again and again.
 */
export class Order extends AggregateRoot {
  private constructor(private readonly state: OrderState) {
    super();
  }

  static place(id: string, customerId: string, email: string | null, items: OrderLine[]): Order {
    const now = new Date().toISOString();
    const order = new Order({
      id,
      customerId,
      customerEmail: email,
      status: 'PENDING',
      items: items.map((line) => ({
        productId: line.productId,
        quantity: line.quantity,
        unitPrice: null,
      })),
      totalAmount: null,
      currency: 'USD',
      failureReason: null,
      createdAt: now,
      updatedAt: now,
    });
    order.apply(new OrderCreated(id, customerId, items));
    return order;
  }

  static fromState(state: OrderState): Order {
    return new Order({ ...state, items: state.items.map((line) => ({ ...line })) });
  }

  get snapshot(): OrderState {
    return { ...this.state, items: this.state.items.map((line) => ({ ...line })) };
  }

  get id(): string {
    return this.state.id;
  }

  get items(): readonly PricedLine[] {
    return this.state.items;
  }

  get totalAmount(): number | null {
    return this.state.totalAmount;
  }

  /** Prices every line; an unknown product makes the order invalid and failed. */
  validate(prices: Map<string, number>): void {
    const unknown = this.state.items.find((line) => !prices.has(line.productId));
    if (unknown) {
      const reason = `Unknown product ${unknown.productId}`;
      this.apply(new OrderValidated(this.id, false, null, reason));
      this.fail(reason);
      return;
    }
    let total = 0;
    for (const line of this.state.items) {
      line.unitPrice = prices.get(line.productId) ?? 0;
      total += line.unitPrice * line.quantity;
    }
    this.state.totalAmount = total;
    this.move('VALIDATED');
    this.apply(new OrderValidated(this.id, true, total, null));
  }

  startPayment(): void {
    this.move('PAYMENT_PROCESSING');
    this.apply(new OrderProcessingStarted(this.id, this.state.totalAmount ?? 0));
  }

  markReserved(): void {
    this.move('INVENTORY_RESERVED');
  }

  complete(): void {
    this.move('COMPLETED');
    this.apply(new OrderCompleted(this.id));
  }

  fail(reason: string): void {
    if (this.state.status === 'COMPLETED' || this.state.status === 'FAILED') return;
    this.state.failureReason = reason;
    this.move('FAILED');
    this.apply(new OrderFailed(this.id, reason));
  }

  private move(status: OrderStatus): void {
    this.state.status = status;
    this.state.updatedAt = new Date().toISOString();
  }
}

/** Minor units as a two-decimal string: 175 → "1.75". */
export function formatMinor(minor: number): string {
  const cents = String(minor % 100).padStart(2, '0');
  return `${Math.trunc(minor / 100)}.${cents}`;
}

export function toView(order: OrderState) {
  return {
    id: order.id,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    status: order.status,
    items: order.items.map((line) => ({
      productId: line.productId,
      quantity: line.quantity,
      unitPrice: line.unitPrice === null ? null : formatMinor(line.unitPrice),
    })),
    totalAmount: order.totalAmount === null ? null : formatMinor(order.totalAmount),
    currency: order.currency,
    failureReason: order.failureReason,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}
