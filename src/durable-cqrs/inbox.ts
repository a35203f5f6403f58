import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import { Statement } from './database/statement.js';
import { writeDeadLetter } from './dead-letters.js';
import type { OutcomeWriter } from './delivery-log.js';
import type { DomainEvent } from './domain-event.js';
import {
  finishedInInbox,
  sharedDone,
  unfinishedEarlier,
  type OutcomeArgs,
} from './inbox-statements.js';
import type { Subscriber } from './subscribers.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * The inbox: a `deliveries` row per subscriber and event delivered through the broker (DONE,
 * RETRY or DEAD). It drops a redelivered message whose delivery finished already, and holds a
 * delivery back while an earlier event of its stream is unfinished for its subscriber.
 */
@Injectable()
export class Inbox {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
  ) {}

  /** Whether the subscriber finished this event already (DONE or DEAD). */
  isDone(subscriberId: string, eventId: string): Promise<boolean> {
    return finishedInInbox.run(this.database.readerRunner, { subscriberId, eventId });
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
   * Writes a delivery's outcome (and, for DEAD, its dead letter) in the given unit; false when the
   * delivery was final already and nothing changed.
   */
  readonly write: OutcomeWriter = async (tx, event, subscriberId, outcome) => {
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
  };

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
