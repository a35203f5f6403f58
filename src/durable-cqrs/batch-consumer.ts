import { Inject, Injectable, Logger } from '@nestjs/common';
import { crashPoint } from './crash-points.js';
import { RuntimeOptions } from './runtime-options.js';
import { Checkpoints, CheckpointMoved, IN_PROCESS, type Checkpoint } from './checkpoints.js';
import { CommitSignal } from './commit-signal.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import {
  BatchPlan,
  BatchRun,
  runBatchInUnit,
  type FinishBatch,
  runBatchOn,
  type Delivery,
} from './delivery-batch.js';
import { describeError } from './describe-error.js';
import { writeDeadLetter } from './dead-letters.js';
import { DeliveryLog } from './delivery-log.js';
import { DispatchLease } from './dispatch-lease.js';
import type { DomainEvent } from './domain-event.js';
import type { StoredEvent } from './event-log-rows.js';
import { EventStore } from './event-store.js';
import type { BrokerState, EventTransport, TransportRole } from './event-transport.js';
import { deliveryKey, ParkedDeliveries, type ParkedDelivery } from './parked-deliveries.js';
import { ParkedLanes } from './parked-lanes.js';
import { PipelinedConnection } from './database/pipelined-connection.js';
import { RetryPolicy } from './retry-policy.js';
import { SubscriberRegistry } from './subscribers.js';
import { UnitOfWork } from './unit-of-work.js';

/** How long the consumer waits after a batch failed (the database away, a lost lease). */
const FAILURE_WAIT_MS = 1000;
/** PostgreSQL: how soon to read again when committed events were not readable yet (xmin). */
const BEHIND_WAIT_MS = 5;

/** The context the batch's own writes run in. */
const BATCH_CONTEXT = { correlationId: 'consumer', causationId: null, background: true };

/**
 * Delivers stored events in-process, in batches, with a checkpoint instead of a row per delivery.
 *
 * One loop reads the next events after the checkpoint (one query), runs every delivery of them
 * (each `@EventsHandler` and `@Saga()` that takes the event) in ONE unit of work, and moves the
 * checkpoint in that unit: one commit for the whole batch. A stream's deliveries run one after the
 * other in log order, so they reach each subscriber in order and see each other's writes. The
 * streams run at the same time, each delivery without a savepoint (see BatchPlan): on SQLite in
 * one unit of the group commit, on PostgreSQL on a pipelined connection (PipelinedConnection).
 *
 * A delivery that throws is left out and parked: a row in `deliveries` in the batch's unit,
 * retried with backoff by ParkedLanes; the later events of its stream are parked behind it for
 * that subscriber, while other subscribers and other streams go on. A delivery that calls the
 * outside world (the payment gateway, e-mail) is parked due at once and runs outside any
 * transaction. Woken by each commit; a poll finds what other instances stored. On PostgreSQL the
 * instance holding the delivery lease delivers; the others stand by.
 */
@Injectable()
export class BatchConsumer implements EventTransport {
  private readonly logger = new Logger(BatchConsumer.name);
  private position?: Checkpoint;
  private loop?: Promise<void>;
  private started = false;
  private stopping = false;
  private woken = false;
  private wake?: () => void;
  /** Highest seq committed on this instance, and highest delivered: their gap is the backlog. */
  private lastSeenSeq = 0;
  private deliveredSeq = 0;
  private lastRefresh = 0;
  private pipeline?: PipelinedConnection;

  constructor(
    private readonly config: RuntimeOptions,
    private readonly store: EventStore,
    private readonly checkpoints: Checkpoints,
    private readonly registry: SubscriberRegistry,
    private readonly log: DeliveryLog,
    private readonly policy: RetryPolicy,
    private readonly parked: ParkedDeliveries,
    private readonly lanes: ParkedLanes,
    private readonly lease: DispatchLease,
    private readonly uow: UnitOfWork,
    @Inject(DATABASE) private readonly database: Database,
    private readonly signal: CommitSignal,
  ) {
    signal.onCommitted((events) => {
      for (const event of events) {
        if (event.meta.seq > this.lastSeenSeq) this.lastSeenSeq = event.meta.seq;
      }
      this.poke();
    });
  }

  async start(): Promise<void> {
    this.registry.discover();
    this.started = true;
    this.stopping = false;
    await this.takeOver().catch((error: unknown) =>
      this.logger.warn(`Could not start delivering yet: ${describeError(error)}`),
    );
    this.loop = this.run();
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    this.poke();
    await Promise.race([
      this.loop,
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    await this.lanes.stop(timeoutMs);
    await this.lease.release();
    this.pipeline?.drop();
    this.position = undefined;
    this.started = false;
  }

  get role(): TransportRole {
    return this.started && this.position && this.lease.held ? 'delivering' : 'standing by';
  }

  readonly brokerState: BrokerState = 'not used';

  /** Events committed here and not delivered yet, and parked deliveries. */
  get backlog(): number {
    if (!this.position) return 0;
    return Math.max(0, this.lastSeenSeq - this.deliveredSeq) + this.lanes.size;
  }

  /** Parks a dead-lettered delivery due at once; the delivering instance runs it. */
  async replay(subscriberId: string, event: DomainEvent): Promise<void> {
    if (!this.registry.byId(subscriberId)) throw new Error(`Unknown subscriber ${subscriberId}`);
    const delivery: ParkedDelivery = { subscriberId, event, attempts: 0, notBefore: 0 };
    await this.uow.transaction((tx) => this.parked.park(tx, [delivery]));
    if (this.position) this.lanes.add([delivery]);
  }

  private poke(): void {
    this.woken = true;
    this.wake?.();
  }

  private async idle(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    this.woken = false;
  }

  /** Takes the lease if free; on taking it, reads the checkpoint and the parked deliveries. */
  private async takeOver(): Promise<boolean> {
    if (this.position && this.lease.held) return true;
    this.position = undefined;
    if (!(await this.lease.acquire())) return false;
    const position = await this.checkpoints.read(IN_PROCESS);
    await this.lanes.start();
    this.position = position;
    this.deliveredSeq = Math.max(this.deliveredSeq, position.seq);
    this.lastRefresh = Date.now();
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.takeOver())) {
          await this.idle(this.config.dispatchPollMs);
          continue;
        }
        if (Date.now() - this.lastRefresh > this.config.dispatchPollMs) {
          // Deliveries parked by other instances (a replay there) join their lanes here.
          this.lastRefresh = Date.now();
          await this.lanes.refresh();
        }
        const read = await this.step();
        if (read > 0) continue;
        const behind = this.lastSeenSeq > this.deliveredSeq;
        await this.idle(behind ? BEHIND_WAIT_MS : this.config.dispatchPollMs);
      } catch (error: unknown) {
        if (error instanceof CheckpointMoved) this.position = undefined;
        this.logger.warn(`Delivery batch failed: ${describeError(error)}`);
        await this.idle(FAILURE_WAIT_MS);
      }
    }
  }

  /** Delivers the next batch; how many events it read. */
  private async step(): Promise<number> {
    const from = this.position!;
    const stored = await this.store.readAfter(from, this.config.dispatchBatchSize);
    if (stored.length === 0) return 0;
    const to = stored[stored.length - 1].position;
    const plan = new BatchPlan(
      await this.deliveries(stored, from.legacySeq),
      this.log,
      this.policy,
      (subscriberId, streamId) => this.lanes.has(subscriberId, streamId),
    );
    // The batch's own writes: parked deliveries, dead letters, the rows of parked deliveries
    // done outside since the last batch, the checkpoint.
    const removals = this.lanes.takeRemovals();
    const finish: FinishBatch = async (tx, run) => {
      await this.store.storeDeferred(tx, run.deferred);
      await this.parked.park(tx, run.parked);
      await this.parked.removeMany(tx, removals);
      for (const { event, subscriber, outcome } of run.dead) {
        await writeDeadLetter(tx, event, subscriber.id, outcome);
      }
      await this.checkpoints.move(tx, IN_PROCESS, from, to);
    };
    let run: BatchRun;
    try {
      run =
        this.database.dialect === 'postgres'
          ? await this.runPipelined(plan, finish)
          : await runBatchInUnit(this.uow, plan, finish, BATCH_CONTEXT);
    } catch (error) {
      this.lanes.keepRemovals(removals);
      throw error;
    }
    crashPoint('batch-after-commit');
    this.position = { ...to, legacySeq: from.legacySeq };
    for (const { event } of stored) {
      if (event.meta.seq > this.deliveredSeq) this.deliveredSeq = event.meta.seq;
    }
    this.lanes.add(run.parked);
    // Their outcomes (parked rows, dead letters) committed with the batch: logged and counted now.
    for (const { subscriber, event, outcome, started } of run.delivered) {
      this.log.report(subscriber, event, outcome, started);
      this.log.countRecorded(subscriber.id, outcome);
    }
    return stored.length;
  }

  /**
   * PostgreSQL: one transaction on the consumer's pipelined connection; the streams of the batch
   * run at the same time. A failed delivery aborts the run: it rolls back and the batch runs
   * again with that delivery decided. Events are announced once the batch has committed.
   */
  private async runPipelined(plan: BatchPlan, finish: FinishBatch): Promise<BatchRun> {
    this.pipeline ??= new PipelinedConnection(
      this.config.databaseUrl,
      this.database.counters,
      "The consumer's",
    );
    const run = await runBatchOn(this.pipeline, plan, finish, BATCH_CONTEXT);
    crashPoint('tx-after-commit');
    if (run.appended.length > 0) this.signal.committed(run.appended);
    return run;
  }

  /**
   * The deliveries of these events, grouped by stream, each stream's in log order: every
   * subscriber that takes the event, but those finished already the earlier way.
   */
  private async deliveries(stored: StoredEvent[], legacySeq: number): Promise<Delivery[][]> {
    const finished = await this.legacyFinished(stored, legacySeq);
    const streams = new Map<string, Delivery[]>();
    for (const { event, delivered } of stored) {
      if (delivered) continue;
      for (const subscriber of this.registry.all()) {
        if (!subscriber.accepts(event)) continue;
        if (finished.has(deliveryKey(subscriber.id, event.meta.eventId))) continue;
        let stream = streams.get(event.meta.streamId);
        if (!stream) streams.set(event.meta.streamId, (stream = []));
        stream.push({ subscriber, event });
      }
    }
    return [...streams.values()];
  }

  /**
   * Deliveries already finished the earlier way, as DONE or DEAD rows: of events relayed to a
   * broker before, or stored before migration 010 (at most one query, for such events only).
   */
  private async legacyFinished(stored: StoredEvent[], legacySeq: number): Promise<Set<string>> {
    const ids = stored
      .filter((s) => !s.delivered && (s.relayed || s.event.meta.seq <= legacySeq))
      .map((s) => s.event.meta.eventId);
    return this.parked.finishedOf(ids);
  }
}
