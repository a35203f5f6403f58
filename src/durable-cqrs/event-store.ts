import { newId } from './ids.js';
import { Inject, Injectable } from '@nestjs/common';
import { crashPoint } from './crash-points.js';
import { RuntimeOptions } from './runtime-options.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import type { Tables } from './database/tables.js';
import { sql, type Kysely } from 'kysely';
import { attachMeta, eventTypeOf, type DomainEvent } from './domain-event.js';
import { childTraceparent } from './trace-context.js';
import { messageContext } from './message-context.js';
import { UnitOfWork, type Tx } from './unit-of-work.js';
import type { DeferredEvents } from './tx.js';
import { afterPosition, pastCheckpoint, type Position } from './checkpoints.js';
import { metaOf, revive, type EventRow, type StoredEvent } from './event-log-rows.js';
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

/**
 * The event log: outbox and audit trail at once. Events are appended inside the caller's
 * transaction, with a global sequence and the correlation and causation in force.
 */
@Injectable()
export class EventStore {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly config: RuntimeOptions,
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
   * The events of one stream (an aggregate's whole story) after `afterSeq` (all of them by default),
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
  private unrelayed(db: Kysely<Tables>, limit: number) {
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

  async readOne(eventId: string): Promise<DomainEvent | undefined> {
    const row = await this.database.reader
      .selectFrom('event_log')
      .selectAll()
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row ? revive(row) : undefined;
  }
}
