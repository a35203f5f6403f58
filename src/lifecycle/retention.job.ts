import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { IDEMPOTENCY_CLAIM_LEASE_MS } from '../common/idempotency.js';
import { AppConfig } from '../config/app-config.js';
import {
  DATABASE,
  type Database,
  messageContext,
  RetentionStore,
  type Tx,
  UnitOfWork,
} from '../durable-cqrs/index.js';
import { TERMINAL_STATUSES } from '../orders/domain/order-status.js';

/**
 * Rows one unit of work removes at most: a big backlog is worked off in many short units, so
 * SQLite's one writer is never held for long and requests go first between them.
 */
const BATCH = 500;
const DAY_MS = 86_400_000;

export interface RetentionReport {
  deliveries: number;
  idempotencyKeys: number;
  gatewayCalls: number;
  deadLetters: number;
  events: number;
  eventDeliveries: number;
}

/**
 * The retention job: removes what no one needs any more, every RETENTION_INTERVAL_MS. It never
 * touches what an unfinished order may still need: only orders in a terminal status (which they
 * never leave) lose data, and only streams with nothing left to deliver lose their log.
 *
 * Its rules cross modules (an order's status decides the lifetime of its inbox rows and gateway
 * records), so they are written down here in one place; the log itself is changed only through
 * the event store, the delivery log and the dead-letter store.
 */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  /** Set by stop(): a run under way ends after its current unit. */
  private halting = false;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
    private readonly store: RetentionStore,
  ) {}

  start(): void {
    this.halting = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.halting = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One run, as if the time were `now`: removes everything past its age and logs one line. */
  async runOnce(now: Date = new Date()): Promise<RetentionReport> {
    const config = this.config;
    const ago = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
    const report: RetentionReport = {
      deliveries: 0,
      idempotencyKeys: 0,
      gatewayCalls: 0,
      deadLetters: 0,
      events: 0,
      eventDeliveries: 0,
    };
    const deliveriesBefore = ago(config.retentionDeliveriesDays);
    await this.forFinishedOrders(deliveriesBefore, async (tx, ids) => {
      report.deliveries += await this.store.purgeFinished(tx, ids, deliveriesBefore);
    });
    await this.forFinishedOrders(ago(config.retentionGatewayCallsDays), async (tx, ids) => {
      report.gatewayCalls += await this.purgeGatewayCalls(tx, ids);
    });
    if (config.retentionEventLogDays > 0) {
      await this.forFinishedOrders(ago(config.retentionEventLogDays), async (tx, ids) => {
        const removed = await this.store.purgeStreams(tx, ids);
        report.events += removed.events;
        report.eventDeliveries += removed.deliveries;
      });
    }
    report.deadLetters = await this.drain((tx) =>
      this.store.purgeReplayed(tx, deliveriesBefore, BATCH),
    );
    report.idempotencyKeys = await this.drain((tx) => this.purgeExpiredKeys(tx, now));
    this.logger.log(
      `Retention removed ${report.deliveries} finished deliveries, ` +
        `${report.idempotencyKeys} expired idempotency keys, ${report.gatewayCalls} gateway ` +
        `call records, ${report.deadLetters} replayed dead letters, ${report.events} events ` +
        `with ${report.eventDeliveries} deliveries of finished orders`,
    );
    return report;
  }

  /**
   * Walks the orders that ended before `before`, oldest first, in batches read from the reader
   * (no writer held while reading), and runs `work` on each batch of ids in a unit of its own.
   */
  private async forFinishedOrders(
    before: string,
    work: (tx: Tx, orderIds: string[]) => Promise<void>,
  ): Promise<void> {
    let after = { createdAt: '', id: '' };
    while (!this.halting) {
      const rows = await this.database.reader
        .selectFrom('orders')
        .select(['id', 'created_at'])
        // An order ends after it is created: the (created_at, id) index bounds the walk.
        .where('created_at', '<', before)
        .where((eb) =>
          eb.or([
            eb('created_at', '>', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        )
        // Only the data of orders that never change again may go.
        .where('status', 'in', TERMINAL_STATUSES)
        .where('updated_at', '<', before)
        .orderBy('created_at')
        .orderBy('id')
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return;
      await this.unit((tx) =>
        work(
          tx,
          rows.map((row) => row.id),
        ),
      );
      const last = rows[rows.length - 1];
      after = { createdAt: last.created_at, id: last.id };
      if (rows.length < BATCH) return;
    }
  }

  /** Runs `batch` in units until one removes fewer than BATCH rows; the total removed. */
  private async drain(batch: (tx: Tx) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.unit(batch);
      total += removed;
      if (removed < BATCH || this.halting) return total;
    }
  }

  /** The call counts the gateway keeps per charge: no longer needed once the payment is final. */
  private async purgeGatewayCalls(tx: Tx, orderIds: string[]): Promise<number> {
    const result = await tx.db
      .deleteFrom('gateway_calls')
      .where('idempotency_key', 'in', (eb) =>
        eb
          .selectFrom('payments')
          .select('payment_id')
          .where('order_id', 'in', orderIds)
          .where('status', '<>', 'PENDING'),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Keys past IDEMPOTENCY_KEY_TTL_MS no longer replay; a claim still in flight stays. */
  private async purgeExpiredKeys(tx: Tx, now: Date): Promise<number> {
    const expiredBefore = new Date(now.getTime() - this.config.idempotencyKeyTtlMs).toISOString();
    const leaseStart = new Date(now.getTime() - IDEMPOTENCY_CLAIM_LEASE_MS).toISOString();
    const rows = await tx.db
      .selectFrom('idempotency_keys')
      .select(['principal', 'key'])
      .where('created_at', '<', expiredBefore)
      .where((eb) => eb.or([eb('state', '=', 'DONE'), eb('updated_at', '<', leaseStart)]))
      .limit(BATCH)
      .execute();
    let removed = 0;
    for (const { principal, key } of rows) {
      const result = await tx.db
        .deleteFrom('idempotency_keys')
        .where('principal', '=', principal)
        .where('key', '=', key)
        .where('created_at', '<', expiredBefore)
        .executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    return removed;
  }

  /** A unit of work that gives way to requests, like the deliveries of events. */
  private unit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return messageContext.run(
      { correlationId: randomUUID(), causationId: null, background: true },
      () => this.uow.transaction(work),
    );
  }

  private schedule(): void {
    if (this.halting) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => this.logger.error(`Retention run failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.config.retentionIntervalMs);
    this.timer.unref();
  }
}
