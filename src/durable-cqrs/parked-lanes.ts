import { Injectable, Logger } from '@nestjs/common';
import { RuntimeOptions } from './runtime-options.js';
import { describeError } from './describe-error.js';
import { DeliveryLog } from './delivery-log.js';
import { messageContext } from './message-context.js';
import { deliveryKey, ParkedDeliveries, type ParkedDelivery } from './parked-deliveries.js';
import { DATABASE_WAIT_MS } from './retry-policy.js';
import { SubscriberRegistry } from './subscribers.js';
import { UnitOfWork } from './unit-of-work.js';

const REMOVAL_CONTEXT = { correlationId: 'parked-lanes', causationId: null, background: true };

/** The parked deliveries of one subscriber on one stream, run strictly in sequence order. */
interface Lane {
  key: string;
  parked: ParkedDelivery[];
  running: boolean;
  queued: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

/**
 * How long the row of a delivery done outside waits for the consumer's next batch to remove it,
 * before a unit of its own does.
 */
const REMOVAL_WAIT_MS = 20;

const keyOf = (p: ParkedDelivery) => deliveryKey(p.subscriberId, p.event.meta.eventId);

export function laneKey(subscriberId: string, streamId: string): string {
  return `${subscriberId}\u0000${streamId}`;
}

/**
 * Runs the parked deliveries of the in-process consumer. A lane per subscriber and stream: the
 * first delivery runs when it is due (after its backoff, or at once), each as a unit of work of
 * its own that also removes its row, or outside any unit when it calls the outside world; the
 * next one waits for it, so a subscriber sees one stream's events in order. After the last
 * attempt a delivery becomes a dead letter and the lane goes on. Lanes of different streams run
 * concurrently, up to DISPATCH_CONCURRENCY. While a lane exists, the consumer parks every later
 * event of its stream for its subscriber behind it.
 */
@Injectable()
export class ParkedLanes {
  private readonly logger = new Logger(ParkedLanes.name);
  private readonly lanes = new Map<string, Lane>();
  private readonly ready: Lane[] = [];
  private active = 0;
  private stopping = true;
  private idleWaiters: Array<() => void> = [];
  private finishedDuringRefresh?: Set<string>;
  /** Deliveries done outside whose rows are still to be removed. */
  private removals: ParkedDelivery[] = [];
  private removalTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: RuntimeOptions,
    private readonly store: ParkedDeliveries,
    private readonly registry: SubscriberRegistry,
    private readonly log: DeliveryLog,
    private readonly uow: UnitOfWork,
  ) {}

  /** Starts with the deliveries parked in the database (a restart, or a lease taken over). */
  async start(): Promise<void> {
    this.stopping = false;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    this.lanes.clear();
    this.add(await this.store.all());
  }

  /**
   * Adds the parked deliveries stored since (a replay on another instance). One that finished
   * here while they were read is not taken again.
   */
  async refresh(): Promise<void> {
    const finished = new Set<string>();
    this.finishedDuringRefresh = finished;
    try {
      const stored = await this.store.all();
      const known = new Set<string>();
      for (const lane of this.lanes.values()) {
        for (const p of lane.parked) known.add(keyOf(p));
      }
      for (const p of this.removals) known.add(keyOf(p));
      this.add(
        stored.filter((p) => {
          const key = keyOf(p);
          return !known.has(key) && !finished.has(key);
        }),
      );
    } finally {
      this.finishedDuringRefresh = undefined;
    }
  }

  /**
   * Takes the deliveries done outside whose rows are still to be removed: the consumer removes
   * them in its next batch's unit (and gives them back with `keepRemovals` if that fails). Until
   * then a restart runs them again, which their subscribers' guarded writes make harmless.
   */
  takeRemovals(): ParkedDelivery[] {
    const taken = this.removals;
    this.removals = [];
    return taken;
  }

  keepRemovals(removals: readonly ParkedDelivery[]): void {
    if (removals.length === 0) return;
    this.removals.unshift(...removals);
    // Once stopping, the stop's own flush (or the next start's first batch) removes them: a timer
    // armed now would try again and again against a closed database and keep the process alive.
    if (this.stopping) return;
    this.removalTimer ??= setTimeout(() => void this.flushRemovals(), REMOVAL_WAIT_MS);
  }

  private async flushRemovals(): Promise<void> {
    this.removalTimer = undefined;
    const removals = this.takeRemovals();
    if (removals.length === 0) return;
    try {
      await messageContext.run(REMOVAL_CONTEXT, () =>
        this.uow.transaction((tx) => this.store.removeMany(tx, removals)),
      );
    } catch (error: unknown) {
      this.logger.warn(`Could not remove finished parked rows: ${describeError(error)}`);
      this.keepRemovals(removals);
    }
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    if (this.active > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    }
    if (this.removalTimer) clearTimeout(this.removalTimer);
    await this.flushRemovals();
  }

  /** Whether deliveries of this subscriber on this stream are parked (later ones wait behind). */
  has(subscriberId: string, streamId: string): boolean {
    return this.lanes.has(laneKey(subscriberId, streamId));
  }

  /** Parked deliveries waiting or running. */
  get size(): number {
    let count = 0;
    for (const lane of this.lanes.values()) count += lane.parked.length;
    return count;
  }

  /** Takes deliveries whose rows have committed and runs them in turn. */
  add(parked: readonly ParkedDelivery[]): void {
    for (const delivery of parked) {
      const key = laneKey(delivery.subscriberId, delivery.event.meta.streamId);
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { key, parked: [], running: false, queued: false };
        this.lanes.set(key, lane);
      }
      const seq = delivery.event.meta.seq;
      const same = lane.parked.findIndex((p) => p.event.meta.seq === seq);
      if (same >= 0 && !(lane.running && same === 0)) lane.parked.splice(same, 1);
      else if (same >= 0) continue; // running now: its outcome decides
      let index = lane.parked.length;
      while (index > 0 && lane.parked[index - 1].event.meta.seq > seq) index--;
      lane.parked.splice(index, 0, delivery);
      this.schedule(lane);
    }
  }

  private schedule(lane: Lane): void {
    if (lane.running || lane.queued || this.stopping) return;
    lane.queued = true;
    this.ready.push(lane);
    setImmediate(() => this.pump());
  }

  private pump(): void {
    while (this.active < this.config.dispatchConcurrency && this.ready.length > 0) {
      const lane = this.ready.shift()!;
      lane.queued = false;
      if (this.stopping) continue;
      this.active++;
      void this.run(lane).finally(() => {
        this.active--;
        if (this.active === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
        this.pump();
      });
    }
  }

  private async run(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (!this.stopping && lane.parked.length > 0) {
        const head = lane.parked[0];
        if (head.notBefore > Date.now()) {
          this.wakeAt(lane, head.notBefore);
          return;
        }
        const result = await this.deliver(head);
        if (result === 'unstored') {
          this.wakeAt(lane, Date.now() + DATABASE_WAIT_MS);
          return;
        }
        if (result === 'finished' && lane.parked[0] === head) {
          lane.parked.shift();
          this.finishedDuringRefresh?.add(keyOf(head));
        }
      }
    } catch (error: unknown) {
      this.logger.error(`Parked lane failed: ${describeError(error)}`);
      this.wakeAt(lane, Date.now() + DATABASE_WAIT_MS);
    } finally {
      lane.running = false;
      if (lane.parked.length === 0 && !lane.timer) this.lanes.delete(lane.key);
    }
  }

  private wakeAt(lane: Lane, at: number): void {
    if (this.stopping) return; // start() reads the parked rows again
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

  /**
   * Runs one parked delivery and stores what came of it: 'finished' (done, or dead-lettered),
   * 'again' (a retry is due later), or 'unstored' when the outcome could not be stored (it stays
   * parked as it was, and runs again: its subscriber's writes are guarded).
   */
  private async deliver(head: ParkedDelivery): Promise<'finished' | 'again' | 'unstored'> {
    const { event, subscriberId } = head;
    const subscriber = this.registry.byId(subscriberId);
    if (!subscriber) {
      // A subscriber removed from the code: its row stays for an operator, its lane goes.
      this.logger.warn(`Parked delivery to unknown subscriber ${subscriberId} left as it is`);
      return 'finished';
    }
    const { outcome, recorded } = await this.log.attempt(subscriber, event, head.attempts, (tx) =>
      this.store.remove(tx, subscriberId, event),
    );
    if (recorded) return 'finished';
    // Unlike the broker's consumer, which records every outcome not recorded yet at once (its
    // inbox row must commit before the ack), a DONE run outside any unit leaves its row to the
    // consumer's next batch, which removes many in one statement; nothing redelivers it meanwhile.
    if (outcome.status === 'DONE') {
      this.keepRemovals([head]);
      return 'finished';
    }
    try {
      await this.log.recordOutcome(event, subscriberId, outcome, this.store.write);
    } catch (error: unknown) {
      this.logger.error(
        `Could not record ${subscriberId} on ${event.meta.eventId}: ${describeError(error)}`,
      );
      return 'unstored';
    }
    if (outcome.status !== 'RETRY') return 'finished';
    head.attempts = outcome.attempts;
    head.notBefore = outcome.notBefore ?? 0;
    head.error = outcome.error;
    return 'again';
  }
}
