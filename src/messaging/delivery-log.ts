import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import type { DeliveryStatus } from '../database/schema.js';
import { isConnectionError } from '../database/connection-errors.js';
import type { DomainEvent } from './domain-event.js';
import { messageContext } from './message-context.js';
import type { Subscriber } from './subscribers.js';

/** How long a delivery waits when the database could not be reached. */
const DATABASE_WAIT_MS = 1000;

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  /** RETRY: when the next attempt is due. */
  notBefore?: number;
  error?: string | null;
}

/**
 * What both transports (the in-process dispatcher and RabbitMQ) share: running a subscriber in
 * the event's message context, the retry policy, and the record of each delivery (the inbox:
 * DONE, RETRY or DEAD per subscriber and event) with its dead letter.
 */
@Injectable()
export class DeliveryLog {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: AppConfig,
  ) {}

  run(subscriber: Subscriber, event: DomainEvent): Promise<void> {
    const context = { correlationId: event.meta.correlationId, causationId: event.meta.eventId };
    return messageContext.run(context, () => subscriber.handle(event));
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

  async isDone(subscriberId: string, eventId: string): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('deliveries')
      .select('status')
      .where('subscriber', '=', subscriberId)
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row?.status === 'DONE' || row?.status === 'DEAD';
  }

  /**
   * Records a delivery (and, for DEAD, its dead letter); with `markDispatched`, also that the
   * event is done with, in the same transaction.
   */
  async record(
    event: DomainEvent,
    subscriberId: string,
    outcome: DeliveryOutcome | undefined,
    markDispatched = false,
  ): Promise<void> {
    if (!outcome && !markDispatched) return;
    const at = new Date().toISOString();
    await this.database.db.transaction().execute(async (trx) => {
      if (outcome) {
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
        const written = await trx
          .insertInto('deliveries')
          .values({
            subscriber: subscriberId,
            event_id: event.meta.eventId,
            seq: event.meta.seq,
            stream_id: event.meta.streamId,
            ...row,
          })
          .onConflict((oc) =>
            oc
              .columns(['subscriber', 'event_id'])
              // A delivery that succeeds after retries keeps the last error it met, for the
              // record. DONE and DEAD are final (only a replay reopens a DEAD delivery): a late
              // outcome of a duplicate copy never undoes them, nor dead-letters one twice.
              .doUpdateSet(outcome.status === 'DONE' ? { ...row, last_error: undefined } : row)
              .where('deliveries.status', 'not in', ['DONE', 'DEAD']),
          )
          .executeTakeFirst();
        const applied = Number(written.numInsertedOrUpdatedRows ?? 0) > 0;
        if (outcome.status === 'DEAD' && applied) {
          await trx
            .insertInto('dead_letters')
            .values({
              id: randomUUID(),
              subscriber: subscriberId,
              event_id: event.meta.eventId,
              event_type: event.meta.type,
              seq: event.meta.seq,
              stream_id: event.meta.streamId,
              attempts: outcome.attempts,
              last_error: outcome.error ?? 'unknown error',
              failed_at: at,
              replayed_at: null,
            })
            .execute();
        }
      }
      if (markDispatched) {
        await trx
          .updateTable('event_log')
          .set({ dispatched: 1 })
          .where('seq', '=', event.meta.seq)
          .execute();
      }
    });
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
    markDispatched = false,
    tries = 10,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.record(event, subscriberId, outcome, markDispatched);
      } catch (error: unknown) {
        if (!isConnectionError(error) || attempt >= tries) throw error;
        await delay(DATABASE_WAIT_MS, undefined, { ref: false });
      }
    }
  }

  /** Sets a dead-lettered delivery back to RETRY with a fresh attempt count. */
  async reopen(subscriberId: string, eventId: string): Promise<void> {
    await this.database.db
      .updateTable('deliveries')
      .set({
        status: 'RETRY',
        attempts: 0,
        next_attempt_at: null,
        updated_at: new Date().toISOString(),
      })
      .where('subscriber', '=', subscriberId)
      .where('event_id', '=', eventId)
      .execute();
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
