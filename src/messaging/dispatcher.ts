import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { DeliveryLog, describeError, type StoredDelivery } from './delivery-log.js';
import { CommitSignal } from './commit-signal.js';
import { DispatchLease } from './dispatch-lease.js';
import type { DomainEvent } from './domain-event.js';
import { EventStore } from './event-store.js';
import type { BrokerState, EventTransport, TransportRole } from './event-transport.js';
import { messageContext } from './message-context.js';
import { UnitOfWork } from './unit-of-work.js';
import { SubscriberRegistry, type Subscriber } from './subscribers.js';

interface PendingDelivery {
  subscriber: Subscriber;
  attempts: number;
  notBefore: number;
}

interface QueuedEvent {
  event: DomainEvent;
  pending: Map<string, PendingDelivery>;
}

/** The undelivered events of one stream, delivered strictly one at a time in sequence order. */
interface Lane {
  streamId: string;
  events: QueuedEvent[];
  running: boolean;
  queued: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

const POLL_BATCH = 500;

/**
 * Delivers stored events to every subscriber, durably.
 *
 * - Woken by each commit; a poll of the event log finds what a crash or restart left behind.
 * - Events of one stream go one at a time, in sequence order; different streams run
 *   concurrently, up to DISPATCH_CONCURRENCY.
 * - A subscriber that throws is retried with exponential backoff and jitter. Its later events for
 *   the same stream wait behind it; other subscribers and other streams go on. After
 *   RETRY_MAX_ATTEMPTS the delivery is dead-lettered and the subscriber moves on.
 * - Each delivery is recorded (deliveries table) once the subscriber returns. Subscribers guard
 *   their own writes by state in the same transaction, so a repeated delivery has no effect.
 */
@Injectable()
export class EventDispatcher implements EventTransport {
  private readonly logger = new Logger(EventDispatcher.name);
  private readonly lanes = new Map<string, Lane>();
  private readonly inMemory = new Set<number>();
  private readonly ready: Lane[] = [];
  private active = 0;
  private started = false;
  private stopping = false;
  private pollTimer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private idleWaiters: Array<() => void> = [];
  /** Events finished while a poll reads the log (see `deliver`). */
  private finishedDuringPoll?: Set<number>;
  private readonly toMark: number[] = [];
  private marking?: Promise<void>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: EventStore,
    private readonly registry: SubscriberRegistry,
    private readonly log: DeliveryLog,
    private readonly lease: DispatchLease,
    private readonly uow: UnitOfWork,
    signal: CommitSignal,
  ) {
    signal.onCommitted((events) => {
      // Without the lease another instance delivers; these events wait in the log for it.
      if (this.started && !this.stopping && this.lease.held) this.enqueue(events, new Map());
    });
  }

  /**
   * Discovers the subscribers and starts delivering, beginning with what is left in the log; or,
   * while another instance holds the delivery lease, stands by and asks for it at every poll.
   */
  async start(): Promise<void> {
    this.registry.discover();
    this.started = true;
    this.stopping = false;
    await this.poll();
    this.schedulePoll();
  }

  /** Stops taking new work and waits (up to timeoutMs) for deliveries under way to finish. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    await this.polling;
    if (this.active > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    }
    await this.marking;
    await this.lease.release();
    this.started = false;
  }

  /** 'delivering' while this instance holds the delivery lease; else another instance does. */
  get role(): TransportRole {
    return this.started && this.lease.held ? 'delivering' : 'standing by';
  }

  readonly brokerState: BrokerState = 'not used';

  /** Number of events waiting in memory for at least one subscriber. */
  get backlog(): number {
    return this.inMemory.size;
  }

  /** Puts a dead-lettered delivery back in its stream's lane, with a fresh attempt count. */
  async replay(subscriberId: string, event: DomainEvent): Promise<void> {
    const subscriber = this.registry.byId(subscriberId);
    if (!subscriber) throw new Error(`Unknown subscriber ${subscriberId}`);
    await this.log.reopen(subscriberId, event.meta.eventId);
    await this.uow.transaction((tx) => this.store.markUndelivered(tx, event.meta.seq));
    if (!this.lease.held) return; // the instance that delivers finds it in the log
    const lane = this.laneFor(event.meta.streamId);
    let queued = lane.events.find((q) => q.event.meta.seq === event.meta.seq);
    if (!queued) {
      queued = { event, pending: new Map() };
      this.insertSorted(lane, queued);
      this.inMemory.add(event.meta.seq);
    }
    queued.pending.set(subscriberId, { subscriber, attempts: 0, notBefore: 0 });
    this.schedule(lane);
  }

  private schedulePoll(): void {
    if (this.stopping) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll()
        .catch((error: unknown) => this.logger.error(`Poll failed: ${describeError(error)}`))
        .finally(() => this.schedulePoll());
    }, this.config.dispatchPollMs);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    if (this.stopping) return;
    if (!(await this.lease.acquire())) return;
    const finishedMeanwhile = new Set<number>();
    this.finishedDuringPoll = finishedMeanwhile;
    try {
      await this.pollOnce(finishedMeanwhile);
    } finally {
      this.finishedDuringPoll = undefined;
    }
  }

  private async pollOnce(finishedMeanwhile: Set<number>): Promise<void> {
    const events = await this.store.readUndeliveredExcept(
      (seq) => this.inMemory.has(seq),
      POLL_BATCH,
      POLL_BATCH + this.inMemory.size,
    );
    if (events.length === 0) return;
    const known = await this.log.storedDeliveries(events.map((e) => e.meta.eventId));
    this.enqueue(
      events.filter((e) => !finishedMeanwhile.has(e.meta.seq)),
      known,
    );
  }

  private enqueue(events: DomainEvent[], known: Map<string, Map<string, StoredDelivery>>): void {
    const finished: DomainEvent[] = [];
    for (const event of events) {
      const { seq, eventId, streamId } = event.meta;
      if (this.inMemory.has(seq)) continue;
      const pending = new Map<string, PendingDelivery>();
      const stored = known.get(eventId);
      for (const subscriber of this.registry.all()) {
        if (!subscriber.accepts(event)) continue;
        const delivery = stored?.get(subscriber.id);
        if (delivery && delivery.status !== 'RETRY') continue;
        pending.set(subscriber.id, {
          subscriber,
          attempts: delivery?.attempts ?? 0,
          notBefore: delivery?.notBefore ?? 0,
        });
      }
      if (pending.size === 0) {
        finished.push(event);
        continue;
      }
      const lane = this.laneFor(streamId);
      this.insertSorted(lane, { event, pending });
      this.inMemory.add(seq);
      this.schedule(lane);
    }
    for (const event of finished) this.markDelivered(event.meta.seq);
  }

  /**
   * Notes that an event is done with. The marks are written in batches, one unit for all the
   * events finished since the last one; a mark lost in a crash only makes a poll look at the
   * event again and find every delivery done.
   */
  private markDelivered(seq: number): void {
    this.toMark.push(seq);
    this.marking ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.flushMarks(),
    );
  }

  private async flushMarks(): Promise<void> {
    while (this.toMark.length > 0) {
      const seqs = this.toMark.splice(0);
      await messageContext
        .run({ correlationId: 'dispatcher', causationId: null, background: true }, () =>
          this.uow.transaction((tx) => this.store.markDelivered(tx, seqs)),
        )
        // Harmless: a poll finds these events again, with every delivery done, and marks them.
        .catch((error: unknown) =>
          this.logger.warn(`Could not mark events: ${describeError(error)}`),
        );
    }
    this.marking = undefined;
  }

  private laneFor(streamId: string): Lane {
    let lane = this.lanes.get(streamId);
    if (!lane) {
      lane = { streamId, events: [], running: false, queued: false };
      this.lanes.set(streamId, lane);
    }
    return lane;
  }

  private insertSorted(lane: Lane, queued: QueuedEvent): void {
    const seq = queued.event.meta.seq;
    let index = lane.events.length;
    while (index > 0 && lane.events[index - 1].event.meta.seq > seq) index--;
    lane.events.splice(index, 0, queued);
  }

  private schedule(lane: Lane): void {
    if (lane.running || lane.queued || this.stopping) return;
    lane.queued = true;
    this.ready.push(lane);
    // Let the committing code finish (and any commit just behind it) before delivering.
    setImmediate(() => this.pump());
  }

  private pump(): void {
    while (this.active < this.config.dispatchConcurrency && this.ready.length > 0) {
      const lane = this.ready.shift()!;
      lane.queued = false;
      if (this.stopping) continue;
      this.active++;
      void this.runLane(lane).finally(() => {
        this.active--;
        if (this.active === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
        this.pump();
      });
    }
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (!this.stopping) {
        const next = this.pick(lane);
        if (!next.queued || !next.delivery) {
          if (next.waitUntil !== undefined) this.wakeLaneAt(lane, next.waitUntil);
          return;
        }
        await this.deliver(lane, next.queued, next.delivery);
      }
    } finally {
      lane.running = false;
      if (lane.events.length === 0 && !lane.timer) this.lanes.delete(lane.streamId);
    }
  }

  /** The first delivery, in sequence order, that is not waiting for a backoff or an earlier event. */
  private pick(lane: Lane): {
    queued?: QueuedEvent;
    delivery?: PendingDelivery;
    waitUntil?: number;
  } {
    const nowMs = Date.now();
    const blocked = new Set<string>();
    let waitUntil: number | undefined;
    for (const queued of lane.events) {
      for (const [id, delivery] of queued.pending) {
        if (blocked.has(id)) continue;
        blocked.add(id);
        if (delivery.notBefore <= nowMs) return { queued, delivery };
        waitUntil = Math.min(waitUntil ?? Infinity, delivery.notBefore);
      }
    }
    return { waitUntil };
  }

  private wakeLaneAt(lane: Lane, at: number): void {
    if (lane.timer && lane.timerAt !== undefined && lane.timerAt <= at) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        lane.timerAt = undefined;
        this.schedule(lane);
      },
      Math.max(0, at - Date.now()),
    );
  }

  /** Runs the subscriber once; the outcome, with the attempt count and backoff updated. */
  private async attempt(event: DomainEvent, delivery: PendingDelivery) {
    const { subscriber } = delivery;
    const attempted = await this.log.attempt(subscriber, event, delivery.attempts);
    const { outcome } = attempted;
    if (outcome.status === 'DONE') return attempted;
    // The delivery log has written the failure's line.
    delivery.attempts = outcome.attempts;
    if (outcome.status === 'RETRY') delivery.notBefore = outcome.notBefore!;
    return attempted;
  }

  private async deliver(lane: Lane, queued: QueuedEvent, delivery: PendingDelivery): Promise<void> {
    const { subscriber } = delivery;
    const { event } = queued;
    const { outcome, recorded } = await this.attempt(event, delivery);
    if (outcome.status !== 'RETRY') queued.pending.delete(subscriber.id);
    const finished = queued.pending.size === 0;
    if (finished) lane.events.splice(lane.events.indexOf(queued), 1);
    if (!recorded) {
      try {
        await this.log.recordOutcome(event, subscriber.id, outcome);
      } catch (recordError: unknown) {
        // Still not stored: the event stays undelivered, and a later poll delivers it again,
        // which the subscriber's guarded writes make harmless.
        this.logger.error(
          `Could not record ${subscriber.id} on ${event.meta.eventId}: ${describeError(recordError)}`,
        );
      }
    }
    if (!finished) return;
    // A poll under way may have read the deliveries before this outcome committed: it must not
    // take the event for one left behind and run its subscribers again.
    this.finishedDuringPoll?.add(event.meta.seq);
    // A replay that put the event back meanwhile keeps it in memory.
    if (!lane.events.some((q) => q.event.meta.seq === event.meta.seq)) {
      this.inMemory.delete(event.meta.seq);
      this.markDelivered(event.meta.seq);
    }
  }
}
