import { performance } from 'node:perf_hooks';
import { crashPoint } from './crash-points.js';
import {
  followsAnotherFailure,
  isConnectionError,
  isTransactionConflict,
} from './database/connection-errors.js';
import { contextOf, type DeliveryLog } from './delivery-log.js';
import type { DomainEvent } from './domain-event.js';
import { messageContext, type MessageContext } from './message-context.js';
import { deliveryKey, type ParkedDelivery } from './parked-deliveries.js';
import { laneKey } from './parked-lanes.js';
import type { DeliveryOutcome, RetryPolicy } from './retry-policy.js';
import type { Subscriber } from './subscribers.js';
import type { PipelinedConnection } from './database/pipelined-connection.js';
import { DeferredEvents, Tx } from './tx.js';
import { CallOutInsideUnit, type UnitOfWork } from './unit-of-work.js';

/** One delivery of a batch: an event to one subscriber. */
export interface Delivery {
  subscriber: Subscriber;
  event: DomainEvent;
}

/** A delivery that ran, and what came of it (reported once the batch has committed). */
export interface Delivered extends Delivery {
  outcome: DeliveryOutcome;
  started: number;
}

/** What a failed delivery comes to: parked to be called outside, or a failed attempt. */
type Decision = 'call-out' | DeliveryOutcome;

/** What one run of a batch did; a run that is `aborted` rolls back and the batch runs again. */
export class BatchRun {
  readonly parked: ParkedDelivery[] = [];
  readonly dead: Delivered[] = [];
  readonly delivered: Delivered[] = [];
  /** PostgreSQL: events appended by the deliveries, announced once the batch commits. */
  readonly appended: DomainEvent[] = [];
  /** PostgreSQL: the same events, stored together when the batch ends (see DeferredEvents). */
  readonly deferred = new DeferredEvents();
  aborted = false;
  /** A failure that concerns the whole batch (the database away): the batch fails. */
  transient?: unknown;
  /** Subscriber and stream pairs parked in this run: their later events park too. */
  private readonly blocked = new Set<string>();

  park(delivery: Delivery, outcome?: DeliveryOutcome): void {
    const { subscriber, event } = delivery;
    this.blocked.add(laneKey(subscriber.id, event.meta.streamId));
    this.parked.push({
      subscriberId: subscriber.id,
      event,
      attempts: outcome?.attempts ?? 0,
      notBefore: outcome?.notBefore ?? 0,
      error: outcome?.error,
    });
  }

  isBlocked({ subscriber, event }: Delivery): boolean {
    return this.blocked.has(laneKey(subscriber.id, event.meta.streamId));
  }
}

/** Errors of the database or its connection that say nothing about the delivery that met them. */
function concernsTheBatch(error: unknown): boolean {
  // A conflict with another transaction: the batch runs again as it is.
  return isConnectionError(error) || isTransactionConflict(error);
}

/**
 * Runs the deliveries of a batch, stream by stream in log order, and decides what each came to.
 * Deliveries of different streams run at the same time in one transaction without savepoints
 * (both databases); the first failure aborts the run, and the batch runs again with that delivery
 * decided (parked, or dead-lettered) and not run.
 */
export class BatchPlan {
  /** Decided in an earlier run of this batch, by deliveryKey. */
  private readonly decisions = new Map<string, { decision: Decision; started: number }>();

  constructor(
    private readonly streams: Delivery[][],
    private readonly log: DeliveryLog,
    private readonly policy: RetryPolicy,
    private readonly isParked: (subscriberId: string, streamId: string) => boolean,
  ) {}

  get size(): number {
    return this.decisions.size;
  }

  /**
   * Runs `attempt` until a run of the batch commits: `attempt` says false when a failed delivery
   * aborted its run (rolled back), and the batch runs again with that delivery decided.
   */
  async untilCommitted(attempt: (run: BatchRun) => Promise<boolean>): Promise<BatchRun> {
    for (;;) {
      const decided = this.size;
      const run = new BatchRun();
      if (await attempt(run)) return run;
      if (this.size === decided) throw new Error('A delivery batch failed without a cause');
    }
  }

  /** Runs every stream with `runOne`, all at once. */
  async run(run: BatchRun, runOne: (delivery: Delivery) => Promise<void>): Promise<void> {
    await Promise.allSettled(this.streams.map((stream) => this.runStream(stream, run, runOne)));
  }

  private async runStream(
    stream: Delivery[],
    run: BatchRun,
    runOne: (delivery: Delivery) => Promise<void>,
  ): Promise<void> {
    for (const delivery of stream) {
      if (run.aborted) return;
      const { subscriber, event } = delivery;
      if (run.isBlocked(delivery) || this.isParked(subscriber.id, event.meta.streamId)) {
        run.park(delivery);
        continue;
      }
      const decided = this.decisions.get(deliveryKey(subscriber.id, event.meta.eventId));
      if (decided) {
        this.apply(run, delivery, decided.decision, decided.started);
        continue;
      }
      if (this.log.callsOut(subscriber, event)) {
        run.park(delivery);
        continue;
      }
      const started = performance.now();
      try {
        await runOne(delivery);
        run.delivered.push({ ...delivery, outcome: { status: 'DONE', attempts: 0 }, started });
      } catch (error: unknown) {
        if (concernsTheBatch(error)) {
          run.transient ??= error;
          run.aborted = true;
          return;
        }
        if (error instanceof CallOutInsideUnit) this.log.notesCallOut(subscriber, event);
        const decision: Decision =
          error instanceof CallOutInsideUnit ? 'call-out' : this.policy.failure(0, error);
        if (!followsAnotherFailure(error)) {
          this.decisions.set(deliveryKey(subscriber.id, event.meta.eventId), { decision, started });
        }
        run.aborted = true;
        return;
      }
    }
  }

  private apply(run: BatchRun, delivery: Delivery, decision: Decision, started: number): void {
    if (decision === 'call-out') {
      run.park(delivery);
      return;
    }
    run.delivered.push({ ...delivery, outcome: decision, started });
    if (decision.status === 'DEAD') run.dead.push({ ...delivery, outcome: decision, started });
    else run.park(delivery, decision);
  }
}

/**
 * Runs one delivery on a unit (`tx`): the subscriber, then the nested work it did not wait for;
 * `unit-throws` fails it after its writes (crash test).
 */
export async function deliverOn(tx: Tx, { subscriber, event }: Delivery): Promise<void> {
  await messageContext.run({ ...contextOf(event), tx }, async () => {
    await subscriber.handle(event);
    crashPoint('unit-throws');
  });
}

/**
 * Runs one delivery on a unit of its own that shares the batch's transaction without savepoints
 * (`tx`): nested work that failed fails the delivery, even when its code caught the failure and
 * went on, since its writes cannot be undone alone; the run then aborts (see BatchPlan). The
 * events it appended join the run's.
 */
export async function deliverShared(tx: Tx, run: BatchRun, delivery: Delivery): Promise<void> {
  try {
    await deliverOn(tx, delivery);
    await tx.settle();
  } catch (error) {
    await tx.settleQuietly();
    throw tx.nestedFailure?.error ?? error;
  }
  if (tx.nestedFailure) throw tx.nestedFailure.error;
  run.appended.push(...tx.appended);
}

/** The batch's own writes, in its transaction once its deliveries have run (see BatchConsumer). */
export type FinishBatch = (tx: Tx, run: BatchRun) => Promise<void>;

/**
 * PostgreSQL: runs a batch in one transaction on the consumer's pipelined connection, the streams
 * of `plan` at the same time. A failed delivery aborts the run: it rolls back, and the batch runs
 * again with that delivery decided. Returns the committed run; throws (and closes the connection)
 * when the batch could not commit.
 */
export function runBatchOn(
  pipeline: PipelinedConnection,
  plan: BatchPlan,
  finish: FinishBatch,
  context: MessageContext,
): Promise<BatchRun> {
  return plan.untilCommitted(async (run) => {
    const connection = await pipeline.open();
    const unit = () => new Tx(connection.db, 'postgres', connection, false);
    try {
      await connection.exec('BEGIN');
      await messageContext.run(context, () =>
        plan.run(run, (delivery) => {
          const tx = unit();
          tx.deferredEvents = run.deferred;
          return deliverShared(tx, run, delivery);
        }),
      );
      if (run.transient) throw run.transient;
      if (run.aborted) {
        await connection.exec('ROLLBACK');
        return false;
      }
      const tx = unit();
      await messageContext.run({ ...context, tx }, () => finish(tx, run));
      crashPoint('tx-before-commit');
      const committed = await connection.exec('COMMIT');
      if (committed.command !== 'COMMIT') throw new Error('The delivery batch was rolled back');
      return true;
    } catch (error) {
      // The connection may hold a failed transaction, or statements in flight: start anew.
      pipeline.drop();
      throw error;
    }
  });
}

/**
 * SQLite: runs a batch in one unit of the group commit, the streams of `plan` at the same time,
 * each delivery without a savepoint. A failed delivery aborts the run: the unit rolls back, and
 * the batch runs again with that delivery decided. Returns the committed run.
 */
export function runBatchInUnit(
  uow: UnitOfWork,
  plan: BatchPlan,
  finish: FinishBatch,
  context: MessageContext,
): Promise<BatchRun> {
  return plan.untilCommitted(async (run) => {
    try {
      await messageContext.run(context, () =>
        uow.transaction(async (tx) => {
          await plan.run(run, (delivery) => deliverShared(tx.sharing(), run, delivery));
          if (run.transient) throw run.transient;
          if (run.aborted) throw new RunAborted();
          // Announced by the group commit once the unit has committed.
          tx.appended.push(...run.appended);
          await finish(tx, run);
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof RunAborted) return false;
      throw error;
    }
  });
}

/** Rolls back a run of a batch that a failed delivery aborted (see runBatchInUnit). */
class RunAborted extends Error {
  override name = 'RunAborted';
}
