import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { IN_PROCESS } from '../checkpoints.js';
import type { Database, SqlDialectName } from './database.js';

/** Where the runtime records its own migrations, apart from an application's. */
export const RUNTIME_MIGRATION_TABLE = 'durable_cqrs_migration';

/** An application's migrations, by name in order; a function when they depend on the dialect. */
export type MigrationList =
  Record<string, Migration> | ((dialect: SqlDialectName) => Record<string, Migration>);

/**
 * Applies every pending migration (throws the first failure): the application's, recorded in
 * Kysely's usual table (`kysely_migration`), then the runtime's, recorded in its own. On
 * PostgreSQL each migrator takes a lock, so instances starting together migrate once.
 *
 * The application's come first because an application may have created the runtime's tables in
 * its own history before the runtime had migrations of its own (this service's first ten did):
 * the runtime's baseline then finds each of them already in its shape and creates nothing.
 */
export async function migrateDatabase(
  database: Database,
  appMigrations: MigrationList = {},
): Promise<void> {
  const appList =
    typeof appMigrations === 'function' ? appMigrations(database.dialect) : appMigrations;
  if (Object.keys(appList).length > 0) await migrate(database, appList);
  await migrate(database, runtimeMigrations(database.dialect), RUNTIME_MIGRATION_TABLE);
}

async function migrate(
  database: Database,
  list: Record<string, Migration>,
  table?: string,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(list) };
  const migrator = new Migrator({
    db: database.writer,
    provider,
    ...(table ? { migrationTableName: table, migrationLockTableName: `${table}_lock` } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

/** The runtime's migrations: what its tables (tables.ts) need, in order. */
export function runtimeMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return { '001-runtime-tables': runtimeTables(dialect) };
}

/**
 * The event log, the deliveries that failed (the inbox of parked deliveries), the consumers'
 * checkpoints and the dead letters, with their indexes; each only if it is not there yet.
 */
function runtimeTables(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      let eventLog = db.schema.createTable('event_log').ifNotExists();
      eventLog =
        dialect === 'postgres'
          ? eventLog.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : eventLog.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
      await eventLog
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('aggregate_type', 'text', (c) => c.notNull())
        .addColumn('aggregate_id', 'text', (c) => c.notNull())
        .addColumn('aggregate_version', 'integer')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('correlation_id', 'text', (c) => c.notNull())
        .addColumn('causation_id', 'text')
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('schema_version', 'integer', (c) => c.notNull())
        .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('relayed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('traceparent', 'text')
        // PostgreSQL: the id of the transaction that stored the event (see Checkpoints).
        .addColumn('tx_id', 'bigint', (c) =>
          c
            .notNull()
            .defaultTo(dialect === 'postgres' ? sql`(pg_current_xact_id()::text::bigint)` : 0),
        )
        .execute();
      await db.schema
        .createIndex('event_log_stream_idx')
        .ifNotExists()
        .on('event_log')
        .columns(['stream_id', 'seq'])
        .execute();
      // The relay to a broker reads the events it has not handed on yet.
      await db.schema
        .createIndex('event_log_unrelayed_idx')
        .ifNotExists()
        .on('event_log')
        .column('seq')
        .where(sql.ref('relayed'), '=', 0)
        .execute();
      if (dialect === 'postgres') {
        await db.schema
          .createIndex('event_log_position_idx')
          .ifNotExists()
          .on('event_log')
          .columns(['tx_id', 'seq'])
          .execute();
      }

      // Keyed by event first: every look-up is by event, or by (event, subscriber). On SQLite
      // the key is the table (no rowid).
      let deliveries = db.schema
        .createTable('deliveries')
        .ifNotExists()
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deliveries_pk', ['event_id', 'subscriber']);
      if (dialect === 'sqlite') deliveries = deliveries.modifyEnd(sql`WITHOUT ROWID`);
      await deliveries.execute();

      await db.schema
        .createTable('consumer_checkpoints')
        .ifNotExists()
        .addColumn('consumer', 'text', (c) => c.primaryKey())
        .addColumn('tx_id', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('legacy_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // The in-process consumer starts before the first event (a position it may already have).
      await sql`INSERT INTO consumer_checkpoints (consumer, tx_id, seq, legacy_seq, updated_at)
        VALUES (${IN_PROCESS}, 0, 0, 0, ${new Date().toISOString()})
        ON CONFLICT (consumer) DO NOTHING`.execute(db);

      await db.schema
        .createTable('dead_letters')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text', (c) => c.notNull())
        .addColumn('failed_at', 'text', (c) => c.notNull())
        .addColumn('replayed_at', 'text')
        .execute();
      await db.schema
        .createIndex('dead_letters_open_idx')
        .ifNotExists()
        .on('dead_letters')
        .columns(['replayed_at', 'failed_at'])
        .execute();
    },
  };
}
