import { newId } from '../common/ids.js';
import { Inject, Injectable } from '@nestjs/common';
import { crashPoint } from '../common/crash-points.js';
import { AppConfig } from '../config/app-config.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import type { DB, EventLogTable } from '../database/schema.js';
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { Statement } from '../database/statement.js';
import {
  attachMeta,
  eventTypeOf,
  reviveEvent,
  type DomainEvent,
  type EventMeta,
} from './domain-event.js';
import type { OutboxLag } from '../metrics/metrics.js';
import { childTraceparent } from '../common/trace-context.js';
import { messageContext } from './message-context.js';
import { UnitOfWork, type Tx } from './unit-of-work.js';

export interface AppendTarget {
  streamId: string;
  aggregateType: string;
  aggregateId: string;
  /** Revision of the aggregate these events were raised at (null when there is none). */
  aggregateVersion?: number | null;
}

export type EventRow = Selectable<EventLogTable>;

const INSERT_COLUMNS = [
  'event_id',
  'type',
  'stream_id',
  'aggregate_type',
  'aggregate_id',
  'aggregate_version',
  'payload',
  'correlation_id',
  'causation_id',
  'traceparent',
  'occurred_at',
  'schema_version',
] as const;

type InsertRow = Record<(typeof INSERT_COLUMNS)[number], unknown>;

/** The insert of n events in one statement, returning their sequence numbers in order. */
const inserts = new Map<number, Statement<unknown[], { seq: number }>>();
function insertEvents(count: number): Statement<unknown[], { seq: number }> {
  let statement = inserts.get(count);
  if (!statement) {
    const width = INSERT_COLUMNS.length;
    statement = new Statement(count * width, (db, ...args: unknown[]) =>
      db
        .insertInto('event_log')
        .values(
          Array.from({ length: count }, (_, row) => {
            const values = {} as InsertRow;
            INSERT_COLUMNS.forEach((column, i) => (values[column] = args[row * width + i]));
            return values as unknown as Insertable<EventLogTable>;
          }),
        )
        .returning('seq'),
    );
    inserts.set(count, statement);
  }
  return statement;
}

/** Seed of the hash that turns a stream id into an advisory lock key (any fixed value). */
const STREAM_LOCK_SEED = 7_355_608;

/**
 * The event log: outbox and audit trail at once. Events are appended inside the caller's
 * transaction, with a global sequence and the correlation and causation in force.
 */
@Injectable()
export class EventStore {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
  ) {}

  async append(tx: Tx, events: readonly DomainEvent[], target: AppendTarget): Promise<void> {
    if (events.length === 0) return;
    await this.lockStreams(tx, [target.streamId]);
    const context = messageContext.current();
    const occurredAt = new Date().toISOString();
    const rows = events.map((event) => {
      const { type, schemaVersion } = eventTypeOf(event);
      return {
        event_id: newId(),
        type,
        stream_id: target.streamId,
        aggregate_type: target.aggregateType,
        aggregate_id: target.aggregateId,
        aggregate_version: target.aggregateVersion ?? null,
        payload: JSON.stringify(event),
        correlation_id: context.correlationId,
        causation_id: context.causationId,
        traceparent: childTraceparent(context.traceparent),
        occurred_at: occurredAt,
        schema_version: schemaVersion,
      };
    });
    const { rows: inserted } = await insertEvents(rows.length).run(
      tx,
      ...rows.flatMap((row) => INSERT_COLUMNS.map((column) => row[column])),
    );
    rows.forEach((row, index) => {
      attachMeta(events[index], metaOf({ ...row, seq: Number(inserted[index].seq) }));
      tx.appended.push(events[index]);
    });
  }

  /**
   * Makes the transactions that append to a stream take turns until they commit, so a stream's
   * events commit in the order of their sequence numbers. Without it, on PostgreSQL, a transaction
   * could take a sequence number, commit after one that took a later number, and a consumer that
   * already went past the later event would see the earlier one too late. Locks are taken in a
   * fixed order (callers pass every stream of the transaction at once); they are held to the end
   * of the transaction. SQLite has one writer, so its transactions already take turns.
   */
  async lockStreams(tx: Tx, streamIds: readonly string[]): Promise<void> {
    if (tx.dialect !== 'postgres') return;
    for (const streamId of [...new Set(streamIds)].sort()) {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${streamId}, ${STREAM_LOCK_SEED}))`.execute(
        tx.db,
      );
    }
  }

  /**
   * The events of one stream (an order's whole story) after `afterSeq` (all of them by default),
   * in the order they happened.
   */
  async readStream(streamId: string, afterSeq = 0): Promise<DomainEvent[]> {
    const rows = await this.database.reader
      .selectFrom('event_log')
      .selectAll()
      .where('stream_id', '=', streamId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
    return rows.map((row) => revive(row));
  }

  /**
   * Undelivered events, oldest first, leaving out those `known` already (in memory): their
   * sequence numbers are read first from the partial index alone, so a poll while thousands of
   * events are in flight reads and revives only the ones it can use.
   */
  async readUndeliveredExcept(
    known: (seq: number) => boolean,
    limit: number,
    scan: number,
  ): Promise<DomainEvent[]> {
    const seqs = await this.database.reader
      .selectFrom('event_log')
      .select('seq')
      .where('delivered', '=', sql.lit(0))
      .orderBy('seq')
      .limit(scan)
      .execute();
    const wanted = seqs
      .map((row) => Number(row.seq))
      .filter((seq) => !known(seq))
      .slice(0, limit);
    if (wanted.length === 0) return [];
    const rows = await this.database.reader
      .selectFrom('event_log')
      .selectAll()
      .where('seq', 'in', wanted)
      .orderBy('seq')
      .execute();
    return rows.map((row) => revive(row));
  }

  /** Events not yet delivered to all their subscribers, oldest first. */
  async readUndelivered(limit: number): Promise<DomainEvent[]> {
    const rows = await this.database.reader
      .selectFrom('event_log')
      .selectAll()
      // A literal, not a parameter: only then may the partial index on undelivered events serve.
      .where('delivered', '=', sql.lit(0))
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => revive(row));
  }

  /**
   * How many events are still to be handed on (see handedOn) and the age of the oldest, for the
   * metrics and the console. Both read the partial index of those events.
   */
  async pending(): Promise<OutboxLag> {
    const flag = handedOn(this.config);
    const reader = this.database.reader;
    const [counted, oldest] = await Promise.all([
      reader
        .selectFrom('event_log')
        .select((eb) => eb.fn.countAll().as('events'))
        // Literals, not parameters: only then may the partial indexes serve.
        .where(flag, '=', sql.lit(0))
        .executeTakeFirstOrThrow(),
      reader
        .selectFrom('event_log')
        .select('occurred_at')
        .where(flag, '=', sql.lit(0))
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst(),
    ]);
    const age = oldest ? (Date.now() - Date.parse(oldest.occurred_at)) / 1000 : 0;
    return { events: Number(counted.events), oldestAgeSeconds: Math.max(0, age) };
  }

  /** Notes, in the given unit, that every subscriber has finished with these events. */
  async markDelivered(tx: Tx, seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await tx.db.updateTable('event_log').set({ delivered: 1 }).where('seq', 'in', seqs).execute();
  }

  /** Notes that an event is to be delivered again (a replay). */
  async markUndelivered(tx: Tx, seq: number): Promise<void> {
    await tx.db.updateTable('event_log').set({ delivered: 0 }).where('seq', '=', seq).execute();
  }

  /**
   * One step of the relay to the broker: hands the oldest events not yet relayed (up to limit)
   * to `publish` and, once it resolves (the broker confirmed them), marks them relayed; returns
   * how many. On PostgreSQL the batch is claimed with FOR UPDATE SKIP LOCKED in a transaction held
   * until the mark, so instances relay different events; SQLite has one instance and one writer,
   * so the batch is read, published and then marked in a unit. If `publish` throws, nothing is
   * marked and the events are relayed again later (the consumers' inbox drops a second copy).
   *
   * An event already delivered (by the in-process dispatcher, before the service was given a
   * broker) is marked relayed without being published: every subscriber has it already.
   */
  async relay(limit: number, publish: (events: DomainEvent[]) => Promise<void>): Promise<number> {
    const handOn = async (rows: EventRow[]) => {
      const events = rows.filter((row) => Number(row.delivered) === 0).map((row) => revive(row));
      if (events.length > 0) await publish(events);
    };
    if (this.database.dialect === 'postgres') {
      return this.uow.lockingTransaction(async (tx) => {
        const rows = await this.unrelayed(tx.db, limit).forUpdate().skipLocked().execute();
        if (rows.length === 0) return 0;
        await handOn(rows);
        crashPoint('tx-before-commit');
        await this.markRelayed(tx, rows);
        return rows.length;
      });
    }
    const rows = await this.unrelayed(this.database.reader, limit).execute();
    if (rows.length === 0) return 0;
    await handOn(rows);
    await this.uow.transaction((tx) => this.markRelayed(tx, rows));
    return rows.length;
  }

  /** Events not yet relayed to the broker, oldest first. */
  private unrelayed(db: Kysely<DB>, limit: number) {
    return (
      db
        .selectFrom('event_log')
        .selectAll()
        // A literal, not a parameter: only then may the partial index on unrelayed events serve.
        .where('relayed', '=', sql.lit(0))
        .orderBy('seq')
        .limit(limit)
    );
  }

  /** Notes, in the given unit, that these events are in the broker's hands. */
  private async markRelayed(tx: Tx, rows: readonly EventRow[]): Promise<void> {
    await tx.db
      .updateTable('event_log')
      .set({ relayed: 1 })
      .where(
        'seq',
        'in',
        rows.map((row) => row.seq),
      )
      .execute();
  }

  /**
   * Removes the whole log (events and their inbox rows) of streams whose story is over, in the
   * given unit. A stream that still has work is left whole: an undelivered event, a delivery to
   * be retried or a dead letter not yet replayed. Returns what was removed.
   */
  async purgeStreams(
    tx: Tx,
    streamIds: readonly string[],
  ): Promise<{ events: number; deliveries: number }> {
    if (streamIds.length === 0) return { events: 0, deliveries: 0 };
    const busy = await tx.db
      .selectFrom('event_log as e')
      .select('e.stream_id')
      .where('e.stream_id', 'in', streamIds)
      .where((eb) =>
        eb.or([
          eb(`e.${handedOn(this.config)}`, '=', 0),
          eb.exists(
            eb
              .selectFrom('deliveries as d')
              .select(sql.lit(1).as('one'))
              .whereRef('d.event_id', '=', 'e.event_id')
              .where('d.status', '=', 'RETRY'),
          ),
        ]),
      )
      .union(
        tx.db
          .selectFrom('dead_letters')
          .select('stream_id')
          .where('stream_id', 'in', streamIds)
          .where('replayed_at', 'is', null),
      )
      .execute();
    const blocked = new Set(busy.map((row) => row.stream_id));
    const done = streamIds.filter((id) => !blocked.has(id));
    if (done.length === 0) return { events: 0, deliveries: 0 };
    const deliveries = await tx.db
      .deleteFrom('deliveries')
      .where('event_id', 'in', (eb) =>
        eb.selectFrom('event_log').select('event_id').where('stream_id', 'in', done),
      )
      .executeTakeFirst();
    const events = await tx.db
      .deleteFrom('event_log')
      .where('stream_id', 'in', done)
      .executeTakeFirst();
    return {
      events: Number(events.numDeletedRows),
      deliveries: Number(deliveries.numDeletedRows),
    };
  }

  /**
   * Rewrites the payloads of these streams' events in the given unit (an erasure of personal
   * data); the events stay, with their sequence, type and metadata. Returns how many changed.
   */
  async rewritePayloads(
    tx: Tx,
    streamIds: readonly string[],
    rewrite: (payload: Record<string, unknown>) => boolean,
  ): Promise<number> {
    if (streamIds.length === 0) return 0;
    const rows = await tx.db
      .selectFrom('event_log')
      .select(['seq', 'payload'])
      .where('stream_id', 'in', streamIds)
      .execute();
    let changed = 0;
    for (const row of rows) {
      const payload = JSON.parse(row.payload) as Record<string, unknown>;
      if (!rewrite(payload)) continue;
      await tx.db
        .updateTable('event_log')
        .set({ payload: JSON.stringify(payload) })
        .where('seq', '=', row.seq)
        .execute();
      changed++;
    }
    return changed;
  }

  async readOne(eventId: string): Promise<DomainEvent | undefined> {
    const row = await this.database.reader
      .selectFrom('event_log')
      .selectAll()
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row ? revive(row) : undefined;
  }
}

function metaOf(row: Omit<EventRow, 'delivered' | 'relayed'>): EventMeta {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    aggregateVersion: row.aggregate_version === null ? null : Number(row.aggregate_version),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    traceparent: row.traceparent,
    occurredAt: row.occurred_at,
    schemaVersion: Number(row.schema_version),
  };
}

export function revive(row: EventRow): DomainEvent {
  const event = reviveEvent(row.type, JSON.parse(row.payload) as Record<string, unknown>);
  attachMeta(event, metaOf(row));
  return event;
}

/**
 * The flag that says an event needs no more handing on: `delivered` (the in-process dispatcher
 * gave it to every subscriber), or with RabbitMQ `relayed` (the broker has it; each subscriber's
 * DONE inbox row commits before its copy is acknowledged, so a copy comes again only right after a
 * consumer died, never days later). Retention removes only what this flag has closed.
 */
export function handedOn(config: AppConfig): 'delivered' | 'relayed' {
  return config.amqpUrl ? 'relayed' : 'delivered';
}
