import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseCounters } from './database/counters.js';

/** What the outbox holds that is not yet handed on (delivered, or relayed to the broker). */
export interface OutboxLag {
  events: number;
  /** Age of the oldest of them in seconds; 0 when there is none. */
  oldestAgeSeconds: number;
}

/** Histogram buckets for short work (a delivery attempt, an HTTP request): 1 ms to 10 s. */
export const SHORT_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The durable runtime's own Prometheus metrics: deliveries, retries and dead letters, group
 * commits, the database's statements and commits, the outbox lag. They live in a registry of the
 * runtime's own; the application renders it beside its own metrics (`registry`). The hot path
 * only observes in memory; the outbox lag needs the database and is read when scraped.
 */
@Injectable()
export class RuntimeMetrics {
  readonly registry = new Registry();

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
}
