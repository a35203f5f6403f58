import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseCounters } from '../database/counters.js';

/** What the outbox holds that is not yet handed on (delivered, or relayed to the broker). */
export interface OutboxLag {
  events: number;
  /** Age of the oldest of them in seconds; 0 when there is none. */
  oldestAgeSeconds: number;
}

/** Buckets for short work (an HTTP request, a delivery): 1 ms to 10 s. */
const SHORT_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The service's Prometheus metrics, in a registry of this application's own (not prom-client's
 * global one), so several applications in one process (the tests) never share or clash.
 * Everything on the hot path only observes in memory; what needs the database (the outbox lag)
 * is read when the metrics are scraped.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SHORT_SECONDS,
    registers: [this.registry],
  });

  readonly ordersPlaced = new Counter({
    name: 'orders_placed_total',
    help: 'Orders accepted (OrderCreated committed)',
    registers: [this.registry],
  });

  readonly ordersFinished = new Counter({
    name: 'orders_finished_total',
    help: 'Orders that reached a final status (the terminal event committed), by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly orderDuration = new Histogram({
    name: 'order_duration_seconds',
    help: 'Time from placing an order to its final status, by status',
    labelNames: ['status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly deliveryDuration = new Histogram({
    name: 'event_delivery_duration_seconds',
    help: 'Time a subscriber took to handle one delivery attempt, by subscriber and outcome',
    labelNames: ['subscriber', 'outcome'] as const,
    buckets: SHORT_SECONDS,
    registers: [this.registry],
  });

  readonly deliveryRetries = new Counter({
    name: 'event_delivery_retries_total',
    help: 'Failed delivery attempts recorded for a later retry, by subscriber',
    labelNames: ['subscriber'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'event_dead_letters_total',
    help: 'Deliveries dead-lettered after their last attempt, by subscriber',
    labelNames: ['subscriber'] as const,
    registers: [this.registry],
  });

  readonly groupCommitUnits = new Histogram({
    name: 'group_commit_units',
    help: 'Units of work committed together in one commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  /** The database statements and commits of this process; set by the unit of work. */
  private databaseCounters?: DatabaseCounters;

  /** Where the outbox lag is read from; set by the messaging runtime. */
  private outboxLag?: () => Promise<OutboxLag>;
  /** One read serves both gauges of a scrape. */
  private lagReading?: Promise<OutboxLag | undefined>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const read = () =>
      (this.lagReading ??= (this.outboxLag?.() ?? Promise.resolve(undefined)).finally(() => {
        this.lagReading = undefined;
      }));
    const source = () => this.databaseCounters;
    const counted = (field: keyof DatabaseCounters) =>
      function (this: Counter) {
        const value = source()?.[field];
        if (value === undefined) return;
        this.reset();
        this.inc(value);
      };
    new Counter({
      name: 'db_statements_total',
      help: 'Statements this process sent to the database (queries, and BEGIN, COMMIT, savepoints)',
      registers: [this.registry],
      collect: counted('statements'),
    });
    new Counter({
      name: 'db_commits_total',
      help: 'Write transactions this process committed (a statement outside one is not counted)',
      registers: [this.registry],
      collect: counted('commits'),
    });
    new Gauge({
      name: 'outbox_pending_events',
      help: 'Events in the log not yet handed on (delivered in-process, or relayed to the broker)',
      registers: [this.registry],
      async collect() {
        const lag = await read();
        if (lag) this.set(lag.events);
      },
    });
    new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest event not yet handed on; 0 when none waits',
      registers: [this.registry],
      async collect() {
        const lag = await read();
        if (lag) this.set(lag.oldestAgeSeconds);
      },
    });
  }

  countDatabaseWith(counters: DatabaseCounters): void {
    this.databaseCounters = counters;
  }

  readOutboxLagWith(source: () => Promise<OutboxLag>): void {
    this.outboxLag = source;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
