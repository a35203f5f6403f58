import { sql, type Kysely, type Migration } from 'kysely';
import { type SqlDialectName } from '../../durable-cqrs/index.js';

/**
 * Checkpoints instead of a row per delivery. The in-process consumer keeps its position in the
 * log (one row per consumer) and moves it in the transaction of each batch it delivers; only a
 * delivery that failed, or that waits behind one, keeps a row in `deliveries` (status RETRY).
 *
 * PostgreSQL: each event stores the id of the transaction that wrote it (`tx_id`), and a consumer
 * reads in (tx_id, seq) order and only below the oldest transaction still running, so no event
 * can commit later at a position the consumer has passed. SQLite has one writer: commit order is
 * sequence order, and `tx_id` stays 0.
 *
 * The position starts before the oldest event that the earlier dispatcher had not finished; its
 * finished deliveries of those events are still in `deliveries` (DONE) and are skipped once.
 */
export function checkpoints(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('event_log')
        .addColumn('tx_id', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      if (dialect === 'postgres') {
        await sql`ALTER TABLE event_log ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint)`.execute(
          db,
        );
        await db.schema
          .createIndex('event_log_position_idx')
          .on('event_log')
          .columns(['tx_id', 'seq'])
          .execute();
      }
      await db.schema
        .createTable('consumer_checkpoints')
        .addColumn('consumer', 'text', (c) => c.primaryKey())
        .addColumn('tx_id', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        // Events up to here may have finished deliveries recorded the earlier way (DONE rows).
        .addColumn('legacy_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await sql`INSERT INTO consumer_checkpoints (consumer, tx_id, seq, legacy_seq, updated_at)
        SELECT 'in-process', 0,
          COALESCE((SELECT MIN(seq) - 1 FROM event_log WHERE delivered = 0),
                   (SELECT MAX(seq) FROM event_log), 0),
          COALESCE((SELECT MAX(seq) FROM event_log), 0),
          ${new Date().toISOString()}`.execute(db);
      // Finished deliveries need no row any more; failed ones (RETRY) stay, as parked deliveries.
      await sql`DELETE FROM deliveries WHERE status = 'DONE' AND event_id IN
        (SELECT event_id FROM event_log WHERE delivered = 1)`.execute(db);
    },
  };
}
