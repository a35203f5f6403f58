import { Injectable } from '@nestjs/common';
import { type DomainEvent, StreamWatch } from '../../../durable-cqrs/index.js';
import { OrderConfirmationSent } from '../../../notifications/events/order-confirmation-sent.event.js';
import { OrderFailureNotificationSent } from '../../../notifications/events/order-failure-notification-sent.event.js';
import { PaymentInitiated } from '../../../payments/events/payment-initiated.event.js';
import { canMove, isTerminal, OrderStatus } from '../../domain/order-status.js';
import { OrderCancelled } from '../../events/order-cancelled.event.js';
import { OrderCompleted } from '../../events/order-completed.event.js';
import { OrderCreated } from '../../events/order-created.event.js';
import { OrderFailed } from '../../events/order-failed.event.js';
import { OrderProcessingStarted } from '../../events/order-processing-started.event.js';
import { OrderValidated } from '../../events/order-validated.event.js';
import { toOrderEventView, type OrderEventView } from '../order.view.js';

/** One event of an order's history, with the order's status once it happened. */
export interface OrderProgressStep {
  event: OrderEventView;
  status: OrderStatus;
  /** The event moved the order to `status`. */
  statusChanged: boolean;
  /** Terminal and the final notification sent: the workflow is over, nothing more follows. */
  settled: boolean;
}

/**
 * The status an event moves the order to, if it moves it. Read from the events alone, so the
 * status after each event is the same whenever (and on whichever instance) the history is read.
 * PaymentInitiated counts as PAYMENT_PROCESSING: the order takes that status in reaction to it,
 * without an event of its own. The one mapping of events to statuses (the metrics read it too).
 */
export function statusAfter(event: DomainEvent): OrderStatus | undefined {
  if (event instanceof OrderCreated) return OrderStatus.PENDING;
  if (event instanceof OrderValidated) return event.isValid ? OrderStatus.VALIDATED : undefined;
  if (event instanceof OrderProcessingStarted) return OrderStatus.INVENTORY_RESERVED;
  if (event instanceof PaymentInitiated) return OrderStatus.PAYMENT_PROCESSING;
  if (event instanceof OrderCompleted) return OrderStatus.COMPLETED;
  if (event instanceof OrderFailed) return OrderStatus.FAILED;
  if (event instanceof OrderCancelled) return OrderStatus.CANCELLED;
  return undefined;
}

function isFinalNotification(event: DomainEvent): boolean {
  return event instanceof OrderConfirmationSent || event instanceof OrderFailureNotificationSent;
}

/**
 * An order's progress as it happens, read from the event log: the one way to wait for an order
 * (its event stream and POST /orders with Prefer: wait both use it). It holds no transaction and
 * no unit of work while it waits.
 */
@Injectable()
export class OrderProgress {
  constructor(private readonly watch: StreamWatch) {}

  /**
   * The order's events from the beginning of its history, or only those after `afterSeq` (the
   * earlier ones still count for the status), as they are committed; it ends once the order is
   * settled, or when `signal` aborts.
   */
  async *follow(
    orderId: string,
    { afterSeq = 0, signal }: { afterSeq?: number; signal: AbortSignal },
  ): AsyncGenerator<OrderProgressStep> {
    let status: OrderStatus = OrderStatus.PENDING;
    let terminal = false;
    let notified = false;
    for await (const batch of this.watch.follow(orderId, { signal })) {
      for (const event of batch) {
        const next = statusAfter(event);
        const statusChanged =
          next !== undefined && (event instanceof OrderCreated || canMove(status, next));
        if (statusChanged) status = next;
        terminal = isTerminal(status);
        notified ||= isFinalNotification(event);
        const settled = terminal && notified;
        if (event.meta.seq > afterSeq) {
          yield { event: toOrderEventView(event), status, statusChanged, settled };
        }
        if (settled) return;
      }
    }
  }

  /**
   * Waits up to `timeoutMs` (or until `cancel` aborts) for the order to reach a terminal status;
   * whether it did. The caller reads the order afterwards.
   */
  async reachesTerminal(
    orderId: string,
    timeoutMs: number,
    cancel?: AbortSignal,
  ): Promise<boolean> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    for await (const step of this.follow(orderId, { signal })) {
      if (isTerminal(step.status)) return true;
    }
    return false;
  }
}
