import { Injectable } from '@nestjs/common';
import type { OrderLine } from './events.js';
import { Order, type OrderState } from './order.aggregate.js';

/** Everything lives in memory: the first version a new @nestjs/cqrs user writes. */
@Injectable()
export class OrderRepository {
  private readonly orders = new Map<string, OrderState>();

  save(order: Order): void {
    this.orders.set(order.id, order.snapshot);
  }

  /** A new instance each time, so that each handler commits only its own events. */
  find(id: string): Order | undefined {
    const state = this.orders.get(id);
    return state && Order.fromState(state);
  }

  state(id: string): OrderState | undefined {
    return this.orders.get(id);
  }

  get size(): number {
    return this.orders.size;
  }
}

interface Product {
  name: string;
  /** Minor units. */
  unitPrice: number;
  available: number;
  reserved: number;
  sold: number;
}

/** The catalog: prices and stock, in a Map. */
@Injectable()
export class Catalog {
  private readonly products = new Map<string, Product>([
    ['product-1', { name: 'Widget', unitPrice: 5000, available: 100, reserved: 0, sold: 0 }],
    ['product-2', { name: 'Gadget', unitPrice: 7500, available: 50, reserved: 0, sold: 0 }],
    ['product-3', { name: 'Gizmo', unitPrice: 2000, available: 25, reserved: 0, sold: 0 }],
  ]);
  private readonly reservations = new Map<string, OrderLine[]>();

  upsert(productId: string, name: string, unitPrice: number, available: number): void {
    const product = this.products.get(productId);
    if (product) Object.assign(product, { name, unitPrice, available });
    else this.products.set(productId, { name, unitPrice, available, reserved: 0, sold: 0 });
  }

  prices(productIds: string[]): Map<string, number> {
    const prices = new Map<string, number>();
    for (const id of productIds) {
      const product = this.products.get(id);
      if (product) prices.set(id, product.unitPrice);
    }
    return prices;
  }

  /** Reserves every line or none; returns the first product short of stock. */
  reserve(orderId: string, lines: OrderLine[]): string | null {
    for (const line of lines) {
      const product = this.products.get(line.productId);
      if (!product || product.available < line.quantity) return line.productId;
    }
    for (const line of lines) {
      const product = this.products.get(line.productId);
      if (!product) continue;
      product.available -= line.quantity;
      product.reserved += line.quantity;
    }
    this.reservations.set(orderId, lines);
    return null;
  }

  /** Reserved stock becomes sold. */
  commit(orderId: string): void {
    const lines = this.reservations.get(orderId);
    if (!lines) return;
    this.reservations.delete(orderId);
    for (const line of lines) {
      const product = this.products.get(line.productId);
      if (!product) continue;
      product.reserved -= line.quantity;
      product.sold += line.quantity;
    }
  }
}

export interface SentNotification {
  kind: 'confirmation' | 'failure';
  sentAt: number;
}

/** What the notification handler sent, per order. */
@Injectable()
export class NotificationStore {
  readonly sent = new Map<string, SentNotification>();
  confirmations = 0;
  failures = 0;
  lastSentAt: number | null = null;

  record(orderId: string, kind: SentNotification['kind']): void {
    const sentAt = Date.now();
    this.sent.set(orderId, { kind, sentAt });
    if (kind === 'confirmation') this.confirmations++;
    else this.failures++;
    this.lastSentAt = sentAt;
  }
}
