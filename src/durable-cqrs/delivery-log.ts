import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { crashPoint } from './crash-points.js';
import { RuntimeLogger } from './runtime-logger.js';
import { traceIdOf } from './trace-context.js';
import { isConnectionError } from './database/connection-errors.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import type { DomainEvent } from './domain-event.js';
import { Inbox } from './inbox.js';
import { messageContext, type MessageContext } from './message-context.js';
import { DATABASE_WAIT_MS, RetryPolicy, type DeliveryOutcome } from './retry-policy.js';
import type { Subscriber } from './subscribers.js';
import { CallOutInsideUnit, UnitOfWork, type Tx } from './unit-of-work.js';

/** Writes a delivery's outcome in the given unit; false when it changed nothing. */
export type OutcomeWriter = (
  tx: Tx,
  event: DomainEvent,
  subscriberId: string,
  outcome: DeliveryOutcome,
) => Promise<boolean>;

/** Writes, in the delivery's own unit, that it is done (an inbox row, or a parked row removed). */
export type RecordDone = (tx: Tx) => Promise<unknown>;

/** What an attempt came to, and whether its outcome is stored already. */
export interface Attempted {
  outcome: DeliveryOutcome;
  /** True when the outcome committed with the subscriber's own writes (in one unit). */
  recorded: boolean;
}

/** Runs in a row without an outside call after which a pair is tried in one unit again. */
const FORGET_CALL_OUT_AFTER = 20;

/**
 * What both transports (the in-process consumer and RabbitMQ) share: running a subscriber in
 * the event's message context, the record of each delivery's outcome (by default in the inbox;
 * the retry policy decides a failure's), and its log line and metrics.
 *
 * A delivery runs as ONE unit of work: the subscriber's writes, the events they raise and the
 * inbox row commit together, in a group commit shared with other units. A subscriber that calls
 * the outside world (the payment gateway, the e-mail sender) cannot run in a unit: its first
 * call throws `CallOutInsideUnit`, the unit rolls back, and the delivery runs again at once
 * outside, its writes in units of their own and its outcome recorded after them. Which
 * (subscriber, event type) pairs call out is remembered, so the next such delivery goes outside
 * straight away; a pair goes back to one unit after FORGET_CALL_OUT_AFTER runs in a row made no
 * outside call. Not sooner: a subscriber that skips its call now and then (a payment charged
 * already, a notice sent already) would otherwise be tried in a unit again at its next delivery,
 * and that unit's failure rolls back every unit that shares its transaction.
 */
@Injectable()
export class DeliveryLog {
  /** The pairs that call out, and how many runs in a row since made no outside call. */
  private readonly callsOutKeys = new Map<string, number>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly policy: RetryPolicy,
    private readonly inbox: Inbox,
    private readonly metrics: RuntimeMetrics,
    private readonly logger: RuntimeLogger,
  ) {}

  /**
   * Runs the subscriber once in the event's context; never throws: failures are outcomes. Writes
   * one line per delivery: `log` when done, `warn` for a retry, `error` when dead-lettered.
   */
  async attempt(
    subscriber: Subscriber,
    event: DomainEvent,
    attempts: number,
    recordDone: RecordDone = (tx) =>
      this.inbox.write(tx, event, subscriber.id, { status: 'DONE', attempts }),
  ): Promise<Attempted> {
    const started = performance.now();
    const attempted = await this.run(subscriber, event, attempts, recordDone);
    this.report(subscriber, event, attempted.outcome, started);
    return attempted;
  }

  /** The metrics and the log line of one delivery, begun at `started` (performance.now()). */
  report(subscriber: Subscriber, event: DomainEvent, outcome: DeliveryOutcome, started: number) {
    this.metrics.deliveryDuration.observe(
      { subscriber: subscriber.id, outcome: outcome.status },
      (performance.now() - started) / 1000,
    );
    const level = outcome.status === 'DONE' ? 'log' : outcome.status === 'RETRY' ? 'warn' : 'error';
    if (this.logger.isEnabled(level)) {
      const { type, eventId, streamId, correlationId, traceparent } = event.meta;
      this.logger.write(
        level,
        DeliveryLog.name,
        {
          subscriber: subscriber.id,
          eventType: type,
          eventId,
          streamId,
          outcome: outcome.status,
          attempts: outcome.attempts,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          correlationId,
          traceId: traceparent ? traceIdOf(traceparent) : undefined,
          error: outcome.error ?? undefined,
        },
        'delivery',
      );
    }
  }

  /**
   * Counts a retry or a dead letter once its record has committed (and changed the record: a
   * duplicate copy of a message that finds the delivery final already counts nothing).
   */
  countRecorded(subscriberId: string, outcome: DeliveryOutcome): void {
    if (outcome.status === 'DEAD') this.metrics.deadLetters.inc({ subscriber: subscriberId });
    if (outcome.status === 'RETRY') this.metrics.deliveryRetries.inc({ subscriber: subscriberId });
  }

  /** Whether this subscriber called the outside world the last time it took this event type. */
  callsOut(subscriber: Subscriber, event: DomainEvent): boolean {
    return this.callsOutKeys.has(callOutKey(subscriber, event));
  }

  /** Notes that this subscriber calls the outside world for this event type. */
  notesCallOut(subscriber: Subscriber, event: DomainEvent): void {
    this.callsOutKeys.set(callOutKey(subscriber, event), 0);
  }

  private async run(
    subscriber: Subscriber,
    event: DomainEvent,
    attempts: number,
    recordDone: RecordDone,
  ): Promise<Attempted> {
    const key = callOutKey(subscriber, event);
    if (!this.callsOutKeys.has(key)) {
      try {
        await messageContext.run(contextOf(event), () =>
          this.uow.transaction(async (tx) => {
            await subscriber.handle(event);
            crashPoint('delivery-before-record');
            await recordDone(tx);
          }),
        );
        return { outcome: { status: 'DONE', attempts }, recorded: true };
      } catch (error: unknown) {
        if (!(error instanceof CallOutInsideUnit)) {
          return { outcome: this.policy.failure(attempts, error), recorded: false };
        }
        this.callsOutKeys.set(key, 0);
      }
    }
    const context = contextOf(event);
    try {
      await messageContext.run(context, () => subscriber.handle(event));
    } catch (error: unknown) {
      return { outcome: this.policy.failure(attempts, error), recorded: false };
    }
    const quiet = context.calledOut ? 0 : (this.callsOutKeys.get(key) ?? 0) + 1;
    if (quiet >= FORGET_CALL_OUT_AFTER) this.callsOutKeys.delete(key);
    else this.callsOutKeys.set(key, quiet);
    crashPoint('delivery-before-record');
    return { outcome: { status: 'DONE', attempts }, recorded: false };
  }

  /**
   * Records a delivery (and, for DEAD, its dead letter) as a unit of its own, with `write`: the
   * inbox row by default (RabbitMQ), or the parked row (the in-process consumer). A retry or a
   * dead letter is counted once its record commits, and only when it changed the record.
   */
  async record(
    event: DomainEvent,
    subscriberId: string,
    outcome: DeliveryOutcome,
    write: OutcomeWriter = this.inbox.write,
  ): Promise<void> {
    const applied = await messageContext.run(contextOf(event), () =>
      this.uow.transaction((tx) => write(tx, event, subscriberId, outcome)),
    );
    if (applied) this.countRecorded(subscriberId, outcome);
  }

  /**
   * Records an outcome like `record`, asking again while the database cannot be reached (up to
   * `tries` times, a second apart): a subscriber that has run is not run again only because its
   * outcome, a dead letter above all, could not be stored at once. Used by both transports.
   */
  async recordOutcome(
    event: DomainEvent,
    subscriberId: string,
    outcome: DeliveryOutcome,
    write: OutcomeWriter = this.inbox.write,
    tries = 10,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.record(event, subscriberId, outcome, write);
      } catch (error: unknown) {
        if (!isConnectionError(error) || attempt >= tries) throw error;
        await delay(DATABASE_WAIT_MS, undefined, { ref: false });
      }
    }
  }
}

/** Which (subscriber, event type) pairs call the outside world are remembered by this key. */
function callOutKey(subscriber: Subscriber, event: DomainEvent): string {
  return `${subscriber.id}\u0000${event.meta.type}`;
}

/** The context a delivery runs in: the event's correlation, caused by the event, in background. */
export function contextOf(event: DomainEvent): MessageContext {
  return {
    correlationId: event.meta.correlationId,
    causationId: event.meta.eventId,
    traceparent: event.meta.traceparent ?? undefined,
    background: true,
  };
}
