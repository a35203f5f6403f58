import { AggregateRoot } from '@nestjs/cqrs';
import { formatMinor, totalOf } from '../../common/money.js';
import { type DomainEvent } from '../../durable-cqrs/index.js';
import { OrderCancelled } from '../events/order-cancelled.event.js';
import { OrderCompleted } from '../events/order-completed.event.js';
import { OrderCreated } from '../events/order-created.event.js';
import { OrderFailed } from '../events/order-failed.event.js';
import { OrderProcessingStarted } from '../events/order-processing-started.event.js';
import { OrderValidated } from '../events/order-validated.event.js';
import { OrderError } from './order.errors.js';
import { OrderStatus, canMove, isTerminal } from './order-status.js';

export interface OrderLine {
  productId: string;
  quantity: number;
  /** Minor units; null until the catalog has priced the line. */
  unitPrice: number | null;
}

export interface OrderState {
  id: string;
  customerId: string;
  customerEmail: string | null;
  status: OrderStatus;
  items: OrderLine[];
  totalAmount: number | null;
  currency: string;
  failureReason: string | null;
  reservedProducts: string[];
  /** Optimistic-concurrency revision: bumped by every save. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface PlaceOrderInput {
  id: string;
  customerId: string;
  customerEmail: string | null;
  items: Array<{ productId: string; quantity: number }>;
  currency: string;
}

/** Limits on money, in minor units, that an order must keep to. */
export interface OrderLimits {
  maxUnitPrice: number;
  maxOrderTotal: number;
}

/** What `complete` found. A payment that arrives for a closed order must be refunded. */
export type CompletionOutcome = 'completed' | 'already-completed' | 'order-closed';

/**
 * The order aggregate. Every method is safe to call again with the same input: a step that has
 * already happened (or can no longer happen) changes nothing and raises no event.
 */
export class Order extends AggregateRoot<DomainEvent> {
  private constructor(private state: OrderState) {
    super();
  }

  static place(input: PlaceOrderInput, now: string): Order {
    const order = new Order({
      ...input,
      status: OrderStatus.PENDING,
      items: input.items.map((line) => ({ ...line, unitPrice: null })),
      totalAmount: null,
      failureReason: null,
      reservedProducts: [],
      version: 0,
      createdAt: now,
      updatedAt: now,
    });
    order.apply(
      new OrderCreated(
        input.id,
        input.customerId,
        input.customerEmail,
        input.items,
        input.currency,
      ),
    );
    return order;
  }

  static fromState(state: OrderState): Order {
    return new Order(state);
  }

  get snapshot(): Readonly<OrderState> {
    return this.state;
  }

  get id(): string {
    return this.state.id;
  }

  get status(): OrderStatus {
    return this.state.status;
  }

  /**
   * Prices the lines from the catalog. An unknown product, a total over the limit or a price over
   * the limit (a catalog row written before the limit existed) fails the order at once: these
   * never get better by trying again.
   */
  validate(
    catalog: ReadonlyMap<string, { unitPrice: number }>,
    limits: OrderLimits,
    now: string,
  ): void {
    if (this.state.status !== OrderStatus.PENDING) return;
    const unknown = this.state.items.filter((line) => !catalog.has(line.productId));
    if (unknown.length > 0) {
      this.reject(`Unknown product: ${unknown.map((l) => l.productId).join(', ')}`, now);
      return;
    }
    const items = this.state.items.map((line) => ({
      ...line,
      unitPrice: catalog.get(line.productId)!.unitPrice,
    }));
    const total = totalOf(items);
    if (total > BigInt(limits.maxOrderTotal)) {
      this.reject(
        `Order total ${formatMinor(total)} exceeds the maximum of ${formatMinor(limits.maxOrderTotal)}`,
        now,
      );
      return;
    }
    const overpriced = items.filter((line) => line.unitPrice > limits.maxUnitPrice);
    if (overpriced.length > 0) {
      this.reject(
        `Unit price exceeds the maximum of ${formatMinor(limits.maxUnitPrice)}: ` +
          overpriced.map((l) => l.productId).join(', '),
        now,
      );
      return;
    }
    this.move(OrderStatus.VALIDATED, now);
    this.state.items = items;
    this.state.totalAmount = Number(total);
    this.apply(
      new OrderValidated(
        this.id,
        true,
        null,
        items.map((l) => ({ ...l, unitPrice: formatMinor(l.unitPrice) })),
        formatMinor(total),
        this.state.currency,
      ),
    );
  }

  private reject(reason: string, now: string): void {
    this.apply(new OrderValidated(this.id, false, reason, [], null, this.state.currency));
    this.fail(reason, now);
  }

  /** Notes one reserved line; once every line is reserved, processing (payment) starts. */
  recordReservation(productId: string, now: string): void {
    if (this.state.status !== OrderStatus.VALIDATED) return;
    if (!this.state.items.some((line) => line.productId === productId)) return;
    if (this.state.reservedProducts.includes(productId)) return;
    this.state.reservedProducts = [...this.state.reservedProducts, productId];
    this.state.updatedAt = now;
    if (this.state.reservedProducts.length < this.state.items.length) return;
    this.move(OrderStatus.INVENTORY_RESERVED, now);
    this.apply(
      new OrderProcessingStarted(
        this.id,
        this.state.customerId,
        formatMinor(this.state.totalAmount ?? 0),
        this.state.currency,
      ),
    );
  }

  markPaymentProcessing(now: string): void {
    if (this.state.status !== OrderStatus.INVENTORY_RESERVED) return;
    this.move(OrderStatus.PAYMENT_PROCESSING, now);
  }

  complete(paymentId: string, now: string): CompletionOutcome {
    if (this.state.status === OrderStatus.COMPLETED) return 'already-completed';
    if (isTerminal(this.state.status)) return 'order-closed';
    if (
      this.state.status !== OrderStatus.PAYMENT_PROCESSING &&
      this.state.status !== OrderStatus.INVENTORY_RESERVED
    ) {
      return 'order-closed';
    }
    this.move(OrderStatus.COMPLETED, now);
    this.apply(
      new OrderCompleted(
        this.id,
        this.state.customerId,
        this.state.customerEmail,
        formatMinor(this.state.totalAmount ?? 0),
        this.state.currency,
        paymentId,
      ),
    );
    return 'completed';
  }

  fail(reason: string, now: string): void {
    if (isTerminal(this.state.status)) return;
    const previous = this.state.status;
    this.move(OrderStatus.FAILED, now);
    this.state.failureReason = reason;
    this.apply(
      new OrderFailed(this.id, this.state.customerId, this.state.customerEmail, reason, previous),
    );
  }

  /** Allowed until payment completes; a terminal order answers ORDER_NOT_CANCELLABLE. */
  cancel(reason: string, now: string): void {
    if (isTerminal(this.state.status)) {
      throw new OrderError(
        'ORDER_NOT_CANCELLABLE',
        `Order ${this.id} is ${this.state.status} and can no longer be cancelled`,
        { orderStatus: this.state.status },
      );
    }
    const previous = this.state.status;
    this.move(OrderStatus.CANCELLED, now);
    this.state.failureReason = reason;
    this.apply(
      new OrderCancelled(
        this.id,
        this.state.customerId,
        this.state.customerEmail,
        reason,
        previous,
      ),
    );
  }

  private move(to: OrderStatus, now: string): void {
    if (!canMove(this.state.status, to)) {
      throw new Error(`Order ${this.id}: ${this.state.status} -> ${to} is not allowed`);
    }
    this.state.status = to;
    this.state.updatedAt = now;
  }
}
