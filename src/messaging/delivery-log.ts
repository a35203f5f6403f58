import { performance } from 'node:perf_hooks';
import { newId } from '../common/ids.js';
import { AppLogger } from '../common/logging/app-logger.js';
import { traceIdOf } from '../common/trace-context.js';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Statement } from '../database/statement.js';
import { AppConfig } from '../config/app-config.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import type { DeliveryStatus } from '../database/schema.js';
import { isConnectionError } from '../database/connection-errors.js';
import { describeError } from '../common/describe-error.js';
import { Metrics } from '../metrics/metrics.js';
import type { DomainEvent } from './domain-event.js';
import { messageContext, type MessageContext } from './message-context.js';
import { CallOutInsideUnit, UnitOfWork, type Tx } from './unit-of-work.js';
import { crashPoint } from '../common/crash-points.js';
import type { Subscriber } from './subscribers.js';
import { notHandedOn } from './event-log-rows.js';
import {
  finishedInInbox,
  sharedDone,
  unfinishedEarlier,
  type OutcomeArgs,
} from './inbox-statements.js';

/** How long a delivery waits when the database could not be reached. */
const DATABASE_WAIT_MS = 1000;

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  /** RETRY: when the next attempt is due. */
  notBefore?: number;
  error?: string | null;
}

/** What the inbox holds of one delivery. */
export interface StoredDelivery {
  status: DeliveryStatus;
  attempts: number;
  /** RETRY: when the next attempt is due (0: at once). */
  notBefore: number;
}

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
 * the event's message context, the retry policy, and the record of each delivery (the inbox:
 * DONE, RETRY or DEAD per subscriber and event) with its dead letter.
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
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly metrics: Metrics,
    private readonly logger: AppLogger,
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
      this.write(tx, event, subscriber.id, { status: 'DONE', attempts }),
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
          return { outcome: this.failure(attempts, error), recorded: false };
        }
        this.callsOutKeys.set(key, 0);
      }
    }
    const context = contextOf(event);
    try {
      await messageContext.run(context, () => subscriber.handle(event));
    } catch (error: unknown) {
      return { outcome: this.failure(attempts, error), recorded: false };
    }
    const quiet = context.calledOut ? 0 : (this.callsOutKeys.get(key) ?? 0) + 1;
    if (quiet >= FORGET_CALL_OUT_AFTER) this.callsOutKeys.delete(key);
    else this.callsOutKeys.set(key, quiet);
    crashPoint('delivery-before-record');
    return { outcome: { status: 'DONE', attempts }, recorded: false };
  }

  /**
   * The outcome of a failed attempt: RETRY with a backoff, or DEAD after the last attempt. A lost
   * database connection does not count as an attempt: the delivery waits for the database.
   */
  failure(previousAttempts: number, error: unknown): DeliveryOutcome {
    const message = describeError(error);
    if (isConnectionError(error)) {
      return {
        status: 'RETRY',
        attempts: previousAttempts,
        notBefore: Date.now() + DATABASE_WAIT_MS,
        error: message,
      };
    }
    const attempts = previousAttempts + 1;
    if (attempts >= this.config.retryMaxAttempts)
      return { status: 'DEAD', attempts, error: message };
    return {
      status: 'RETRY',
      attempts,
      notBefore: Date.now() + this.backoff(attempts),
      error: message,
    };
  }

  /** Exponential backoff with jitter: between half and all of base * 2^(attempt-1). */
  backoff(attempt: number): number {
    const step = this.config.retryBaseDelayMs * 2 ** (attempt - 1);
    return Math.round(step / 2 + Math.random() * (step / 2));
  }

  /**
   * Removes, in the given unit, the DONE inbox rows older than `before` of these streams' events
   * that are handed on (relayed to the broker, or behind the in-process checkpoint): such an
   * event is not delivered again, so its inbox rows guard nothing. Returns how many.
   */
  async purgeFinished(tx: Tx, streamIds: readonly string[], before: string): Promise<number> {
    if (streamIds.length === 0) return 0;
    const result = await tx.db
      .deleteFrom('deliveries')
      .where('status', '=', 'DONE')
      .where('updated_at', '<', before)
      .where('event_id', 'in', (eb) =>
        eb
          .selectFrom('event_log')
          .select('event_id')
          .where('stream_id', 'in', streamIds)
          .where(sql<boolean>`NOT ${notHandedOn(this.config, this.database.dialect)}`),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Whether the subscriber finished this event already (DONE or DEAD). */
  isDone(subscriberId: string, eventId: string): Promise<boolean> {
    return finishedInInbox.run(this.database.readerRunner, { subscriberId, eventId });
  }

  /** The stored deliveries of these events: by event id, then by subscriber. */
  async storedDeliveries(
    eventIds: readonly string[],
  ): Promise<Map<string, Map<string, StoredDelivery>>> {
    const found = new Map<string, Map<string, StoredDelivery>>();
    if (eventIds.length === 0) return found;
    const rows = await this.database.reader
      .selectFrom('deliveries')
      .select(['subscriber', 'event_id', 'status', 'attempts', 'next_attempt_at'])
      .where('event_id', 'in', eventIds)
      .execute();
    for (const row of rows) {
      let perEvent = found.get(row.event_id);
      if (!perEvent) found.set(row.event_id, (perEvent = new Map()));
      perEvent.set(row.subscriber, {
        status: row.status,
        attempts: Number(row.attempts),
        notBefore: row.next_attempt_at ? Date.parse(row.next_attempt_at) : 0,
      });
    }
    return found;
  }

  /**
   * True when the stream has an earlier event that this subscriber takes and has not finished
   * (not DONE or DEAD): a delivery of this one must wait, so the stream's events stay in sequence.
   */
  async hasUnfinishedEarlier(subscriber: Subscriber, event: DomainEvent): Promise<boolean> {
    if (subscriber.eventTypes.length === 0) return false;
    const { streamId, seq } = event.meta;
    return unfinishedEarlier.run(this.database.readerRunner, {
      subscriberId: subscriber.id,
      eventTypes: subscriber.eventTypes,
      streamId,
      seq,
    });
  }

  /**
   * Records a delivery (and, for DEAD, its dead letter) as a unit of its own, with `write`: the
   * inbox row by default (RabbitMQ), or the parked row (the in-process consumer). A retry or a
   * dead letter is counted once its record commits, and only when it changed the record: a
   * duplicate copy of a message that finds the delivery final already counts nothing.
   */
  async record(
    event: DomainEvent,
    subscriberId: string,
    outcome: DeliveryOutcome,
    write: OutcomeWriter = this.inbox,
  ): Promise<void> {
    const applied = await messageContext.run(contextOf(event), () =>
      this.uow.transaction((tx) => write(tx, event, subscriberId, outcome)),
    );
    if (!applied) return;
    if (outcome.status === 'DEAD') this.metrics.deadLetters.inc({ subscriber: subscriberId });
    if (outcome.status === 'RETRY') this.metrics.deliveryRetries.inc({ subscriber: subscriberId });
  }

  /** The inbox row of a delivery through the broker (see `write`). */
  private readonly inbox: OutcomeWriter = (tx, event, subscriberId, outcome) =>
    this.write(tx, event, subscriberId, outcome);

  /**
   * Writes a delivery's outcome (and, for DEAD, its dead letter) in the given unit; false when the
   * delivery was final already and nothing changed.
   */
  private async write(
    tx: Tx,
    event: DomainEvent,
    subscriberId: string,
    outcome: DeliveryOutcome,
  ): Promise<boolean> {
    const at = new Date().toISOString();
    const row = {
      status: outcome.status,
      attempts: outcome.attempts,
      next_attempt_at:
        outcome.status === 'RETRY' && outcome.notBefore !== undefined
          ? new Date(outcome.notBefore).toISOString()
          : null,
      last_error: outcome.error ?? null,
      updated_at: at,
    };
    const args: OutcomeArgs = [
      subscriberId,
      event.meta.eventId,
      event.meta.seq,
      event.meta.streamId,
      row.status,
      row.attempts,
      row.next_attempt_at,
      row.last_error,
      row.updated_at,
    ];
    const changes =
      outcome.status === 'DONE'
        ? await writeDone.run(tx, ...args)
        : (await writeOutcome.run(tx, ...args)).changes;
    const applied = changes > 0;
    if (outcome.status === 'DEAD' && applied)
      await writeDeadLetter(tx, event, subscriberId, outcome);
    return applied;
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
    write: OutcomeWriter = this.inbox,
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

  /** Sets a dead-lettered delivery back to RETRY with a fresh attempt count. */
  async reopen(subscriberId: string, eventId: string): Promise<void> {
    await this.uow.transaction((tx) =>
      tx.db
        .updateTable('deliveries')
        .set({
          status: 'RETRY',
          attempts: 0,
          next_attempt_at: null,
          updated_at: new Date().toISOString(),
        })
        .where('subscriber', '=', subscriberId)
        .where('event_id', '=', eventId)
        .execute(),
    );
  }
}

/**
 * The inbox row of a delivery. DONE and DEAD are final (only a replay reopens a DEAD delivery):
 * a late outcome of a duplicate copy never undoes them, nor dead-letters one twice. A delivery
 * that succeeds after retries keeps the last error it met, for the record.
 */
function outcomeStatement(keepLastError: boolean) {
  return new Statement<OutcomeArgs>(9, (db, ...[subscriber, eventId, seq, streamId, ...rest]) => {
    const [status, attempts, nextAttemptAt, lastError, updatedAt] = rest;
    const row = {
      status,
      attempts,
      next_attempt_at: nextAttemptAt,
      last_error: lastError,
      updated_at: updatedAt,
    };
    return db
      .insertInto('deliveries')
      .values({ subscriber, event_id: eventId, seq, stream_id: streamId, ...row })
      .onConflict((oc) =>
        oc
          .columns(['subscriber', 'event_id'])
          .doUpdateSet(keepLastError ? { ...row, last_error: undefined } : row)
          .where('deliveries.status', 'not in', ['DONE', 'DEAD']),
      );
  });
}
/** On PostgreSQL the DONE rows of a group share one statement (see sharedDone). */
const writeDone = sharedDone(outcomeStatement(true));
const writeOutcome = outcomeStatement(false);

/** Which (subscriber, event type) pairs call the outside world are remembered by this key. */
function callOutKey(subscriber: Subscriber, event: DomainEvent): string {
  return `${subscriber.id}\u0000${event.meta.type}`;
}

/** Stores the dead letter of a delivery that failed for the last time, in the given unit. */
export async function writeDeadLetter(
  tx: Tx,
  event: DomainEvent,
  subscriberId: string,
  outcome: DeliveryOutcome,
): Promise<void> {
  await tx.db
    .insertInto('dead_letters')
    .values({
      id: newId(),
      subscriber: subscriberId,
      event_id: event.meta.eventId,
      event_type: event.meta.type,
      seq: event.meta.seq,
      stream_id: event.meta.streamId,
      attempts: outcome.attempts,
      last_error: outcome.error ?? 'unknown error',
      failed_at: new Date().toISOString(),
      replayed_at: null,
    })
    .execute();
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
