import { Injectable } from '@nestjs/common';
import { type DomainEvent, UnitOfWork } from '../../durable-cqrs/index.js';
import { Metrics } from '../../metrics/metrics.js';
import { isTerminal, type TerminalStatus } from '../domain/order-status.js';
import { OrderCreated } from '../events/order-created.event.js';
import { statusAfter } from '../queries/order-progress/order-progress.js';

/** The terminal status the event ends the order in, if it ends it (the metrics' label). */
function finalStatusOf(event: DomainEvent): TerminalStatus | undefined {
  const status = statusAfter(event);
  return status !== undefined && isTerminal(status) ? status : undefined;
}

/**
 * Counts orders placed and finished when their events commit: an event is appended (and so
 * committed) once, however often it is delivered afterwards, so a redelivery never counts twice,
 * and a unit of work that rolls back counts nothing. No database work: the time an order was
 * placed is handed over in memory by the repository that saves its final state.
 */
@Injectable()
export class OrderMetrics {
  private readonly placedAt = new WeakMap<DomainEvent, string>();

  constructor(
    private readonly metrics: Metrics,
    uow: UnitOfWork,
  ) {
    uow.onCommitted((events) => this.committed(events));
  }

  /** Called as an order is saved with its new events (not yet committed). */
  saving(events: readonly DomainEvent[], createdAt: string): void {
    for (const event of events) if (finalStatusOf(event)) this.placedAt.set(event, createdAt);
  }

  private committed(events: readonly DomainEvent[]): void {
    for (const event of events) {
      if (event instanceof OrderCreated) {
        this.metrics.ordersPlaced.inc();
        continue;
      }
      const status = finalStatusOf(event);
      if (!status) continue;
      this.metrics.ordersFinished.inc({ status });
      const placed = this.placedAt.get(event);
      if (placed === undefined) continue;
      const seconds = (Date.parse(event.meta.occurredAt) - Date.parse(placed)) / 1000;
      this.metrics.orderDuration.observe({ status }, Math.max(0, seconds));
    }
  }
}
