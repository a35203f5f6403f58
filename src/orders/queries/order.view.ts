import { formatMinor } from '../../common/money.js';
import { type DomainEvent } from '../../durable-cqrs/index.js';
import type { OrderState } from '../domain/order.aggregate.js';
import type { OrderStatus } from '../domain/order-status.js';

/** An order as the API shows it: amounts as two-decimal strings. */
export interface OrderView {
  id: string;
  customerId: string;
  customerEmail: string | null;
  status: OrderStatus;
  items: Array<{ productId: string; quantity: number; unitPrice: string | null }>;
  totalAmount: string | null;
  currency: string;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toOrderView(state: OrderState): OrderView {
  return {
    id: state.id,
    customerId: state.customerId,
    customerEmail: state.customerEmail,
    status: state.status,
    items: state.items.map((line) => ({
      productId: line.productId,
      quantity: line.quantity,
      unitPrice: line.unitPrice === null ? null : formatMinor(line.unitPrice),
    })),
    totalAmount: state.totalAmount === null ? null : formatMinor(state.totalAmount),
    currency: state.currency,
    failureReason: state.failureReason,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

export interface OrderEventView {
  seq: number;
  eventId: string;
  type: string;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  payload: Record<string, unknown>;
}

/** A stored event as the API shows it: its metadata and its own fields (the payload). */
export function toOrderEventView(event: DomainEvent): OrderEventView {
  return {
    seq: event.meta.seq,
    eventId: event.meta.eventId,
    type: event.meta.type,
    occurredAt: event.meta.occurredAt,
    correlationId: event.meta.correlationId,
    causationId: event.meta.causationId,
    traceparent: event.meta.traceparent,
    payload: JSON.parse(JSON.stringify(event)) as Record<string, unknown>,
  };
}
