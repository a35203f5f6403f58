import { Inject, Injectable } from '@nestjs/common';
import { sql, type RawBuilder } from 'kysely';
import { DATABASE } from './database/database.tokens.js';
import type { Database, SqlDialectName } from './database/database.js';
import type { Tx } from './unit-of-work.js';

/** The consumer that delivers events in-process (the only one today). */
export const IN_PROCESS = 'in-process';

/**
 * A position in the event log: every event at or before it is handed to its subscribers. On
 * PostgreSQL events are read in (tx_id, seq) order, on SQLite in seq order (tx_id is always 0).
 */
export interface Position {
  txId: number;
  seq: number;
}

export interface Checkpoint extends Position {
  /** Events up to this seq may have finished deliveries recorded as DONE rows (before 010). */
  legacySeq: number;
}

/** Someone else moved the checkpoint: this instance no longer delivers (its lease is gone). */
export class CheckpointMoved extends Error {
  override name = 'CheckpointMoved';
  constructor(consumer: string) {
    super(`The checkpoint of ${consumer} was moved by another instance`);
  }
}

/**
 * SQL that is true when the event aliased `alias` is past the in-process consumer's checkpoint:
 * not yet handed to its subscribers. SQLite compares seq alone (its tx_id is always 0), so its
 * primary key serves; PostgreSQL compares (tx_id, seq) as a row, served by its index.
 */
export function pastCheckpoint(dialect: SqlDialectName, alias = 'event_log'): RawBuilder<boolean> {
  const checkpoint = sql`consumer_checkpoints c WHERE c.consumer = ${IN_PROCESS}`;
  if (dialect === 'sqlite') {
    return sql<boolean>`${sql.ref(`${alias}.seq`)} > (SELECT c.seq FROM ${checkpoint})`;
  }
  return sql<boolean>`(${sql.ref(`${alias}.tx_id`)}, ${sql.ref(`${alias}.seq`)}) > (SELECT c.tx_id, c.seq FROM ${checkpoint})`;
}

/**
 * SQL that is true for an event of `event_log` after `position`: a range of the primary key
 * (SQLite) or of the (tx_id, seq) index (PostgreSQL), as parameters the planner can use.
 */
export function afterPosition(dialect: SqlDialectName, position: Position): RawBuilder<boolean> {
  return dialect === 'sqlite'
    ? sql<boolean>`seq > ${position.seq}`
    : sql<boolean>`(tx_id, seq) > (${position.txId}, ${position.seq})`;
}

/** Consumer checkpoints: read once when a consumer starts, moved in each batch's transaction. */
@Injectable()
export class Checkpoints {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async read(consumer: string): Promise<Checkpoint> {
    const row = await this.database.reader
      .selectFrom('consumer_checkpoints')
      .select(['tx_id', 'seq', 'legacy_seq'])
      .where('consumer', '=', consumer)
      .executeTakeFirst();
    // Migration 010 creates the in-process consumer's row; a consumer without one is a bug.
    if (!row) throw new Error(`No checkpoint for consumer ${consumer}`);
    return { txId: Number(row.tx_id), seq: Number(row.seq), legacySeq: Number(row.legacy_seq) };
  }

  /**
   * Moves the checkpoint from `from` to `to` in the given unit; throws CheckpointMoved (the unit
   * rolls back) when it is no longer at `from`: another instance delivers now.
   */
  async move(tx: Tx, consumer: string, from: Position, to: Position): Promise<void> {
    const result = await tx.db
      .updateTable('consumer_checkpoints')
      .set({ tx_id: to.txId, seq: to.seq, updated_at: new Date().toISOString() })
      .where('consumer', '=', consumer)
      .where('tx_id', '=', from.txId)
      .where('seq', '=', from.seq)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new CheckpointMoved(consumer);
  }
}
