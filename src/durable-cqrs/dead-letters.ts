import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from './domain-error.js';
import { newId } from './ids.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import type { DeadLettersTable } from './database/tables.js';
import type { Selectable } from 'kysely';
import type { DomainEvent } from './domain-event.js';
import { EventStore } from './event-store.js';
import { EventTransport } from './event-transport.js';
import type { DeliveryOutcome } from './retry-policy.js';
import { UnitOfWork, type Tx } from './unit-of-work.js';

export interface DeadLetterView {
  id: string;
  subscriber: string;
  eventId: string;
  eventType: string;
  streamId: string;
  attempts: number;
  lastError: string;
  failedAt: string;
  replayedAt: string | null;
}

export class DeadLetterError extends DomainError {}

/**
 * The dead-letter store: deliveries that failed RETRY_MAX_ATTEMPTS times. An operator lists them
 * and replays one once its cause is fixed; a replay that fails again becomes a new dead letter.
 * A dead letter is written by `writeDeadLetter` (below), in the unit that records its delivery.
 */
@Injectable()
export class DeadLetterStore {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly transport: EventTransport,
    private readonly events: EventStore,
    private readonly uow: UnitOfWork,
  ) {}

  async list(includeReplayed = false, limit = 100): Promise<DeadLetterView[]> {
    let query = this.database.reader.selectFrom('dead_letters').selectAll();
    if (!includeReplayed) query = query.where('replayed_at', 'is', null);
    const rows = await query.orderBy('failed_at', 'desc').limit(limit).execute();
    return rows.map(toView);
  }

  /** How many dead letters wait for a replay. */
  async countOpen(): Promise<number> {
    const row = await this.database.reader
      .selectFrom('dead_letters')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('replayed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async replay(id: string): Promise<DeadLetterView> {
    const row = await this.database.reader
      .selectFrom('dead_letters')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row)
      throw new DeadLetterError('DEAD_LETTER_NOT_FOUND', `Dead letter ${id} does not exist`);
    const event = await this.events.readOne(row.event_id);
    if (!event) throw new Error(`Event ${row.event_id} of dead letter ${id} is missing`);
    const claimed = await this.uow.transaction((tx) =>
      tx.db
        .updateTable('dead_letters')
        .set({ replayed_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('replayed_at', 'is', null)
        .executeTakeFirst(),
    );
    if (Number(claimed.numUpdatedRows) !== 1) {
      throw new DeadLetterError(
        'DEAD_LETTER_ALREADY_REPLAYED',
        `Dead letter ${id} was already replayed`,
      );
    }
    await this.transport.replay(row.subscriber, event);
    return toView(
      await this.database.reader
        .selectFrom('dead_letters')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow(),
    );
  }
}

/**
 * Stores the dead letter of a delivery that failed for the last time, in the given unit (the unit
 * that records its outcome: the inbox row, the parked row, or the in-process batch).
 */
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

function toView(row: Selectable<DeadLettersTable>): DeadLetterView {
  return {
    id: row.id,
    subscriber: row.subscriber,
    eventId: row.event_id,
    eventType: row.event_type,
    streamId: row.stream_id,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    failedAt: row.failed_at,
    replayedAt: row.replayed_at,
  };
}
