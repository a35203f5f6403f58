import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import { writeDeadLetter } from './dead-letters.js';
import type { OutcomeWriter } from './delivery-log.js';
import type { DomainEvent } from './domain-event.js';
import { revive } from './event-log-rows.js';
import { inChunks } from './database/in-chunks.js';
import type { Tx } from './unit-of-work.js';

/**
 * A delivery that did not finish in its batch: its subscriber threw (due again after a backoff),
 * called the outside world (due at once, run outside any transaction), or waits behind an earlier
 * parked delivery of the same subscriber and stream (the stream is parked for that subscriber).
 */
export interface ParkedDelivery {
  subscriberId: string;
  event: DomainEvent;
  attempts: number;
  /** When it is due (ms since the epoch; 0: at once, in its turn). */
  notBefore: number;
  error?: string | null;
}

/** A delivery's key in memory: its subscriber and its event. */
export function deliveryKey(subscriberId: string, eventId: string): string {
  return `${subscriberId}\u0000${eventId}`;
}

/**
 * The parked deliveries, one `deliveries` row each (status RETRY). The in-process consumer writes
 * them in the transaction of the batch that parked them; the lane that runs them removes each in
 * the transaction of its own delivery, or records its new attempt count, or its dead letter.
 */
@Injectable()
export class ParkedDeliveries {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Every parked delivery, with its event, oldest first. */
  async all(): Promise<ParkedDelivery[]> {
    const rows = await this.database.reader
      .selectFrom('deliveries as d')
      .innerJoin('event_log as e', 'e.event_id', 'd.event_id')
      .selectAll('e')
      .select([
        'd.subscriber',
        'd.attempts',
        'd.next_attempt_at',
        sql<string | null>`d.last_error`.as('last_error'),
      ])
      .where('d.status', '=', 'RETRY')
      .orderBy('e.seq')
      .execute();
    return rows.map((row) => ({
      subscriberId: row.subscriber,
      event: revive(row),
      attempts: Number(row.attempts),
      notBefore: row.next_attempt_at ? Date.parse(row.next_attempt_at) : 0,
      error: row.last_error,
    }));
  }

  /** Of these events, the deliveries finished as DONE or DEAD rows (by deliveryKey). */
  async finishedOf(eventIds: readonly string[]): Promise<Set<string>> {
    const finished = new Set<string>();
    for (const ids of inChunks(eventIds, 500)) {
      const rows = await this.database.reader
        .selectFrom('deliveries')
        .select(['subscriber', 'event_id'])
        .where('event_id', 'in', ids)
        .where('status', 'in', ['DONE', 'DEAD'])
        .execute();
      for (const row of rows) finished.add(deliveryKey(row.subscriber, row.event_id));
    }
    return finished;
  }

  /** Parks deliveries in the given unit, in one statement (a parked one parked again is reset). */
  async park(tx: Tx, parked: readonly ParkedDelivery[]): Promise<void> {
    if (parked.length === 0) return;
    const at = new Date().toISOString();
    // A few hundred rows per statement keeps under every driver's limit of parameters.
    for (const some of inChunks(parked, 500)) {
      await tx.db
        .insertInto('deliveries')
        .values(
          some.map((p) => ({
            subscriber: p.subscriberId,
            event_id: p.event.meta.eventId,
            seq: p.event.meta.seq,
            stream_id: p.event.meta.streamId,
            status: 'RETRY' as const,
            attempts: p.attempts,
            next_attempt_at: p.notBefore > 0 ? new Date(p.notBefore).toISOString() : null,
            last_error: p.error ?? null,
            updated_at: at,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['event_id', 'subscriber']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            attempts: eb.ref('excluded.attempts'),
            next_attempt_at: eb.ref('excluded.next_attempt_at'),
            last_error: eb.ref('excluded.last_error'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  /** The parked delivery is done: its row goes, in the unit of the delivery's own writes. */
  async remove(tx: Tx, subscriberId: string, event: DomainEvent): Promise<void> {
    await tx.db
      .deleteFrom('deliveries')
      .where('event_id', '=', event.meta.eventId)
      .where('subscriber', '=', subscriberId)
      .execute();
  }

  /** Removes the rows of parked deliveries done outside any unit, in the given unit. */
  async removeMany(tx: Tx, done: readonly ParkedDelivery[]): Promise<void> {
    for (const some of inChunks(done, 500)) {
      const pairs = some.map((p) => sql`(${p.event.meta.eventId}, ${p.subscriberId})`);
      await sql`DELETE FROM deliveries WHERE (event_id, subscriber) IN (VALUES ${sql.join(pairs)})`.execute(
        tx.db,
      );
    }
  }

  /**
   * Writes the outcome of a parked delivery run outside a unit (see DeliveryLog.record): DONE
   * removes its row, RETRY stores the new count and due time, DEAD its dead letter.
   */
  readonly write: OutcomeWriter = async (tx, event, subscriberId, outcome) => {
    if (outcome.status === 'RETRY') {
      await this.park(tx, [
        {
          subscriberId,
          event,
          attempts: outcome.attempts,
          notBefore: outcome.notBefore ?? 0,
          error: outcome.error,
        },
      ]);
      return true;
    }
    await this.remove(tx, subscriberId, event);
    if (outcome.status === 'DEAD') await writeDeadLetter(tx, event, subscriberId, outcome);
    return true;
  };
}
