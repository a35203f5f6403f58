import { sql, type Kysely, type Migration } from 'kysely';
import { type SqlDialectName } from '../../durable-cqrs/index.js';

/**
 * Every delivery writes its inbox row, so each index on deliveries costs a page write per
 * delivery. The primary key becomes (event_id, subscriber): it serves the look-ups by event and
 * by (subscriber, event) alone, so the index by event goes; no query reads deliveries by status,
 * so that index goes too. On SQLite the table has no rowid: the key is the table.
 */
export function leanDeliveries(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('deliveries_status_idx').ifExists().execute();
      await db.schema.dropIndex('deliveries_event_idx').ifExists().execute();
      if (dialect === 'postgres') {
        await sql`ALTER TABLE deliveries DROP CONSTRAINT deliveries_pk`.execute(db);
        await sql`ALTER TABLE deliveries ADD CONSTRAINT deliveries_pk PRIMARY KEY (event_id, subscriber)`.execute(
          db,
        );
        return;
      }
      await db.schema
        .createTable('deliveries_lean')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deliveries_pk', ['event_id', 'subscriber'])
        .modifyEnd(sql`WITHOUT ROWID`)
        .execute();
      await sql`INSERT INTO deliveries_lean (subscriber, event_id, seq, stream_id, status, attempts,
          next_attempt_at, last_error, updated_at)
        SELECT subscriber, event_id, seq, stream_id, status, attempts, next_attempt_at, last_error,
          updated_at FROM deliveries`.execute(db);
      await db.schema.dropTable('deliveries').execute();
      await db.schema.alterTable('deliveries_lean').renameTo('deliveries').execute();
    },
  };
}
