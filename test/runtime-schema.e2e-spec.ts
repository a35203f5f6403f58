import { sql } from 'kysely';
import { serviceMigrations } from '../src/database/migrations.js';
import {
  migrateDatabase,
  openDatabase,
  RUNTIME_MIGRATION_TABLE,
  type Database,
} from '../src/durable-cqrs/index.js';
import { removeTempDatabases, tempDatabaseUrl } from './create-test-app.js';

const RUNTIME_TABLES = ['consumer_checkpoints', 'dead_letters', 'deliveries', 'event_log'];

/** A table as the database describes it: its columns and its indexes, in a comparable form. */
async function describeTable(database: Database, table: string): Promise<unknown> {
  if (database.dialect === 'sqlite') {
    const columns = await sql<Record<string, unknown>>`
      SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(${table})`.execute(
      database.reader,
    );
    const indexes = await sql<{ name: string; unique: number; partial: number; sql: string }>`
      SELECT l.name, l."unique", l.partial, m.sql FROM pragma_index_list(${table}) l
      LEFT JOIN sqlite_master m ON m.name = l.name ORDER BY l.name`.execute(database.reader);
    const withoutRowid = await sql<{ sql: string }>`
      SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ${table}`.execute(
      database.reader,
    );
    return {
      columns: columns.rows,
      // An index's own SQL names its partial condition; automatic ones (keys) have none.
      indexes: indexes.rows.map((index) => ({
        ...index,
        sql: index.sql?.replace(/\s+/g, ' ').replace(/"/g, ''),
      })),
      withoutRowid: /without rowid/i.test(withoutRowid.rows[0]?.sql ?? ''),
    };
  }
  const columns = await sql`
    SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table}
    ORDER BY ordinal_position`.execute(database.reader);
  const indexes = await sql`
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = ${table} ORDER BY indexname`.execute(
    database.reader,
  );
  return { columns: columns.rows, indexes: indexes.rows };
}

async function tableNames(database: Database): Promise<string[]> {
  const names =
    database.dialect === 'sqlite'
      ? await sql<{ name: string }>`
          SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(
          database.reader,
        )
      : await sql<{ name: string }>`
          SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema()`.execute(database.reader);
  return names.rows.map((row) => row.name).sort();
}

async function applied(database: Database, table: string): Promise<string[]> {
  const rows = await sql<{ name: string }>`
    SELECT name FROM ${sql.table(table)} ORDER BY name`.execute(database.reader);
  return rows.rows.map((row) => row.name);
}

/**
 * The runtime's tables come from its own migrations, recorded in a table of their own; the
 * service's history (whose first migrations created those tables before the runtime had a list)
 * must leave them exactly as the runtime's baseline makes them.
 */
describe("the runtime's schema", () => {
  let alone: Database;
  let service: Database;

  beforeAll(async () => {
    alone = openDatabase({ url: await tempDatabaseUrl() });
    service = openDatabase({ url: await tempDatabaseUrl() });
    await migrateDatabase(alone);
    await migrateDatabase(service, serviceMigrations);
  });

  afterAll(async () => {
    await alone?.close();
    await service?.close();
    await removeTempDatabases();
  });

  it('creates only its own tables, and records its migrations apart', async () => {
    expect(await tableNames(alone)).toEqual(
      [...RUNTIME_TABLES, RUNTIME_MIGRATION_TABLE, `${RUNTIME_MIGRATION_TABLE}_lock`].sort(),
    );
    expect(await applied(alone, RUNTIME_MIGRATION_TABLE)).toEqual(['001-runtime-tables']);
  });

  it("gives a database the service's history made the same runtime tables as its baseline", async () => {
    for (const table of RUNTIME_TABLES) {
      expect({ table, ...((await describeTable(service, table)) as object) }).toEqual({
        table,
        ...((await describeTable(alone, table)) as object),
      });
    }
    expect(await applied(service, RUNTIME_MIGRATION_TABLE)).toEqual(['001-runtime-tables']);
    expect(await applied(service, 'kysely_migration')).toEqual(
      Object.keys(serviceMigrations(service.dialect)),
    );
  });

  it('starts the in-process consumer before the first event, on either path', async () => {
    for (const database of [alone, service]) {
      const rows = await database.reader
        .selectFrom('consumer_checkpoints')
        .select(['consumer', 'tx_id', 'seq'])
        .execute();
      expect(
        rows.map((row) => ({ ...row, tx_id: Number(row.tx_id), seq: Number(row.seq) })),
      ).toEqual([{ consumer: 'in-process', tx_id: 0, seq: 0 }]);
    }
  });

  it('applies nothing twice: migrating again changes nothing', async () => {
    const before = await describeTable(alone, 'event_log');
    await migrateDatabase(alone);
    await migrateDatabase(service, serviceMigrations);
    expect(await describeTable(alone, 'event_log')).toEqual(before);
    expect(await applied(alone, RUNTIME_MIGRATION_TABLE)).toEqual(['001-runtime-tables']);
  });
});
