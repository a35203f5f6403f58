import { newId } from '../common/ids.js';
import { Inject, Injectable } from '@nestjs/common';
import { crashPoint } from '../common/crash-points.js';
import { AppConfig } from '../config/app-config.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database, SqlDialectName } from '../database/database.js';
import type { DB, EventLogTable } from '../database/schema.js';
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
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
import type { DeferredEvents } from './tx.js';
import { afterPosition, IN_PROCESS, pastCheckpoint, type Position } from './checkpoints.js';
import {
  INSERT_COLUMNS,
  insertEvents,
  lockAndInsertEvents,
  STORE_DEFERRED,
  STREAM_LOCK_SEED,
  type InsertRow,
} from './event-log-inserts.js';

export interface AppendTarget {
  streamId: string;
  aggregateType: string;
  aggregateId: string;
  /** Revision of the aggregate these events were raised at (null when there is none). */
  aggregateVersion?: number | null;
}

export type EventRow = Selectable<EventLogTable>;

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
  ) {
    uow.storeGroupEventsWith((tx, deferred) => this.storeDeferred(tx, deferred));
  }

  async append(tx: Tx, events: readonly DomainEvent[], target: AppendTarget): Promise<void> {
    if (events.length === 0) return;
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
    if (tx.deferredEvents) {
      rows.forEach((row, index) => {
        tx.deferredEvents!.entries.push({ event: events[index], row });
        tx.appended.push(events[index]);
      });
      return;
    }
    const values = rows.flatMap((row) => INSERT_COLUMNS.map((column) => row[column]));
    // The stream's lock comes with the insert on PostgreSQL; SQLite has one writer anyway.
    const { rows: inserted } =
      tx.dialect === 'postgres'
        ? await lockAndInsertEvents(rows.length).run(tx, target.streamId, ...values)
        : await insertEvents(rows.length).run(tx, ...values);
    rows.forEach((row, index) => {
      attachMeta(events[index], metaOf({ ...row, seq: Number(inserted[index].seq) }));
      tx.appended.push(events[index]);
    });
  }

  /**
   * PostgreSQL: stores the events a batch's deliveries (or a group's units) appended, in the order
   * they were appended, with ONE statement: the locks of their streams (in a fixed order), then
   * one insert of every row from arrays (`unnest`), returning their sequence numbers in order.
   */
  async storeDeferred(tx: Tx, deferred: DeferredEvents): Promise<void> {
    // Taken out: stored once, even when the code that appended them stores them itself.
    const entries = deferred.entries.splice(0);
    if (entries.length === 0) return;
    const streams = [...new Set(entries.map(({ row }) => row.stream_id as string))];
    const columns = INSERT_COLUMNS.map((column) => entries.map(({ row }) => row[column]));
    const { rows: inserted } = await tx.runSql<{ seq: string }>(STORE_DEFERRED, [
      streams,
      ...columns,
    ]);
    if (inserted.length !== entries.length) {
      throw new Error(`Stored ${inserted.length} of the batch's ${entries.length} events`);
    }
    entries.forEach(({ event, row }, index) => {
      attachMeta(
        event,
        metaOf({ ...(row as InsertRow), seq: Number(inserted[index].seq) } as never),
      );
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
   * The next events after `position`, in log order, at most `limit`: what a consumer delivers
   * next. On PostgreSQL only events of transactions older than every transaction still running
   * are read (`tx_id` below the snapshot's xmin): a transaction that is still running can commit
   * an event later, and it must not land behind a position the consumer has passed.
   */
  async readAfter(position: Position, limit: number): Promise<StoredEvent[]> {
    const rows =
      this.database.dialect === 'postgres'
        ? await this.database.reader
            .selectFrom('event_log')
            .selectAll()
            .where(afterPosition('postgres', position))
            .where(sql<boolean>`tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`)
            .orderBy('tx_id')
            .orderBy('seq')
            .limit(limit)
            .execute()
        : await this.database.reader
            .selectFrom('event_log')
            .selectAll()
            .where(afterPosition('sqlite', position))
            .orderBy('seq')
            .limit(limit)
            .execute();
    return rows.map((row) => ({
      event: revive(row),
      position: { txId: Number(row.tx_id), seq: Number(row.seq) },
      delivered: Number(row.delivered) === 1,
      relayed: Number(row.relayed) === 1,
    }));
  }

  /**
   * How many events are still to be handed on (see notHandedOn; in-process, with the events of
   * parked deliveries) and the age of the oldest, for the metrics and the console.
   */
  async pending(): Promise<OutboxLag> {
    const reader = this.database.reader;
    // In-process: the checkpoint first, so the count reads a range of the index, not the log.
    const checkpoint = this.config.amqpUrl
      ? undefined
      : await reader
          .selectFrom('consumer_checkpoints')
          .select(['tx_id', 'seq'])
          .where('consumer', '=', IN_PROCESS)
          .executeTakeFirstOrThrow();
    const waiting = checkpoint
      ? afterPosition(this.database.dialect, {
          txId: Number(checkpoint.tx_id),
          seq: Number(checkpoint.seq),
        })
      : notHandedOn(this.config, this.database.dialect);
    // In-process, an event behind the checkpoint still waits while a delivery of it is parked.
    const parked = this.config.amqpUrl
      ? undefined
      : reader
          .selectFrom('event_log')
          .select([
            (eb) => eb.fn.countAll().as('events'),
            (eb) => eb.fn.min('occurred_at').as('oldest'),
          ])
          .where('event_id', 'in', (eb) =>
            eb.selectFrom('deliveries').select('event_id').where('status', '=', 'RETRY'),
          )
          .where(sql<boolean>`NOT ${waiting}`)
          .executeTakeFirstOrThrow();
    const [counted, oldest, held] = await Promise.all([
      reader
        .selectFrom('event_log')
        .select((eb) => eb.fn.countAll().as('events'))
        .where(waiting)
        .executeTakeFirstOrThrow(),
      reader
        .selectFrom('event_log')
        .select('occurred_at')
        .where(waiting)
        .orderBy('tx_id')
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst(),
      parked,
    ]);
    const times = [oldest?.occurred_at, held?.oldest ?? undefined].filter((t) => t !== undefined);
    const first = times.length > 0 ? Math.min(...times.map((t) => Date.parse(t))) : Date.now();
    return {
      events: Number(counted.events) + Number(held?.events ?? 0),
      oldestAgeSeconds: Math.max(0, (Date.now() - first) / 1000),
    };
  }

  /**
   * One step of the relay to the broker: hands the oldest events not yet relayed (up to limit)
   * to `publish` and, once it resolves (the broker confirmed them), marks them relayed; returns
   * how many. On PostgreSQL the batch is claimed with FOR UPDATE SKIP LOCKED in a transaction held
   * until the mark, so instances relay different events; SQLite has one instance and one writer,
   * so the batch is read, published and then marked in a unit. If `publish` throws, nothing is
   * marked and the events are relayed again later (the consumers' inbox drops a second copy).
   *
   * An event already delivered (by the in-process consumer, before the service was given a
   * broker) is marked relayed without being published: every subscriber has it already.
   */
  async relay(limit: number, publish: (events: DomainEvent[]) => Promise<void>): Promise<number> {
    const handOn = async (rows: Array<EventRow & { handled: number }>) => {
      const events = rows.filter((row) => Number(row.handled) === 0).map((row) => revive(row));
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
        // Handed to every subscriber in-process before the broker came (see pastCheckpoint).
        .select(
          sql<number>`CASE WHEN delivered = 1 OR NOT ${pastCheckpoint(this.database.dialect)} THEN 1 ELSE 0 END`.as(
            'handled',
          ),
        )
        // A literal, not a parameter: only then may the partial index on unrelayed events serve.
        .where('relayed', '=', sql.lit(0))
        .orderBy('seq')
        .limit(limit)
    );
  }

  /** Notes, in the given unit, that these events are in the broker's hands. */
  private async markRelayed(tx: Tx, rows: readonly Pick<EventRow, 'seq'>[]): Promise<void> {
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
          notHandedOn(this.config, this.database.dialect, 'e'),
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

function metaOf(row: Omit<EventRow, 'delivered' | 'relayed' | 'tx_id'>): EventMeta {
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
 * True for an event (aliased `alias`) that is not handed on yet: with RabbitMQ, not relayed (the
 * broker's consumers then record each delivery); in-process, past the consumer's checkpoint.
 * Retention removes only what is handed on, and the outbox lag counts the rest.
 */
export function notHandedOn(
  config: AppConfig,
  dialect: SqlDialectName,
  alias = 'event_log',
): RawBuilder<boolean> {
  return config.amqpUrl
    ? // A literal, not a parameter: only then may the partial index on unrelayed events serve.
      sql<boolean>`${sql.ref(`${alias}.relayed`)} = 0`
    : pastCheckpoint(dialect, alias);
}

/** An event as a consumer reads it: revived, with its position and what was done with it. */
export interface StoredEvent {
  event: DomainEvent;
  position: Position;
  /** Delivered in-process the earlier way, with a DONE row per subscriber (before 010). */
  delivered: boolean;
  /** In the broker's hands: its subscribers' finished deliveries are DONE rows. */
  relayed: boolean;
}
