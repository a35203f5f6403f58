import { sql, type Insertable } from 'kysely';
import type { EventLogTable } from './database/tables.js';
import { Statement } from './database/statement.js';

/**
 * The statements that store events in `event_log` (see EventStore): one append, a PostgreSQL
 * append with its stream's lock, and the deferred events of a PostgreSQL batch.
 */

export const INSERT_COLUMNS = [
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

export type InsertRow = Record<(typeof INSERT_COLUMNS)[number], unknown>;

/** Seed of the hash that turns a stream id into an advisory lock key (any fixed value). */
export const STREAM_LOCK_SEED = 7_355_608;

/** Columns of event_log that are integers (the others are text). */
const INTEGER_COLUMN_NAMES: readonly string[] = ['aggregate_version', 'schema_version'];
const INTEGER_COLUMNS = new Set<string>(INTEGER_COLUMN_NAMES);

/**
 * The deferred events of a batch in one statement (see EventStore.storeDeferred): $1 the streams,
 * locked one by one in sorted order before any row is inserted (the join needs the lock count),
 * then $2.. one array per column, inserted in their order (WITH ORDINALITY) so sequence numbers
 * follow it.
 */
export const STORE_DEFERRED = `WITH stream_locks AS (
    SELECT count(*) AS locked FROM (
      SELECT pg_advisory_xact_lock(hashtextextended(stream, ${STREAM_LOCK_SEED}))
        FROM (SELECT stream FROM unnest($1::text[]) AS stream ORDER BY stream) AS sorted
    ) AS locks)
  INSERT INTO event_log (${INSERT_COLUMNS.join(', ')})
  SELECT ${INSERT_COLUMNS.map((column) => `e.${column}`).join(', ')}
    FROM unnest(${INSERT_COLUMNS.map(
      (column, i) => `$${i + 2}::${INTEGER_COLUMN_NAMES.includes(column) ? 'integer' : 'text'}[]`,
    ).join(', ')}) WITH ORDINALITY AS e(${INSERT_COLUMNS.join(', ')}, n)
    CROSS JOIN stream_locks
    ORDER BY e.n
  RETURNING seq`;

/**
 * PostgreSQL: the stream's lock (see EventStore.lockStreams) and the insert of n events in ONE
 * statement, returning their sequence numbers in order. The rows come out of a join with the
 * lock, so no sequence number is taken before the lock is held, and in the order given.
 */
const lockedInserts = new Map<number, Statement<unknown[], { seq: number }>>();
export function lockAndInsertEvents(count: number): Statement<unknown[], { seq: number }> {
  let statement = lockedInserts.get(count);
  if (!statement) {
    const width = INSERT_COLUMNS.length;
    statement = new Statement(1 + count * width, (db, streamId, ...args: unknown[]) => {
      const rows = Array.from({ length: count }, (_, row) => {
        const values = INSERT_COLUMNS.map((column, i) => {
          const value = sql`${args[row * width + i]}`;
          // The first row's types are the VALUES list's: the others follow them.
          if (row > 0) return value;
          return INTEGER_COLUMNS.has(column) ? sql`${value}::integer` : sql`${value}::text`;
        });
        return sql`(${sql.join(values)}, ${sql.lit(row)})`;
      });
      const columns = sql.join(INSERT_COLUMNS.map((column) => sql.ref(column)));
      const query = sql<{ seq: number }>`WITH stream_lock AS (
          SELECT pg_advisory_xact_lock(hashtextextended(${streamId}, ${sql.lit(STREAM_LOCK_SEED)})))
        INSERT INTO event_log (${columns})
        SELECT ${sql.join(INSERT_COLUMNS.map((column) => sql.ref(`v.${column}`)))}
          FROM (VALUES ${sql.join(rows)}) AS v(${columns}, n) CROSS JOIN stream_lock
          ORDER BY v.n
        RETURNING seq`;
      return { compile: () => query.compile(db) };
    });
    lockedInserts.set(count, statement);
  }
  return statement;
}

/** The insert of n events in one statement, returning their sequence numbers in order. */
const inserts = new Map<number, Statement<unknown[], { seq: number }>>();
export function insertEvents(count: number): Statement<unknown[], { seq: number }> {
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
