import { CompiledQuery, sql } from 'kysely';
import { migrateDatabase, openDatabase, type Database } from '../src/durable-cqrs/index.js';
import { serviceMigrations } from '../src/database/migrations.js';
import type { StatementResult, StatementRunner } from '../src/durable-cqrs/database/statement.js';
import { finishedInInbox, unfinishedEarlier } from '../src/durable-cqrs/inbox-statements.js';
import { removeTempDatabases, tempDatabaseUrl } from './create-test-app.js';

afterAll(() => removeTempDatabases());

const EVENTS = 12_000;
const PER_STREAM = 8;
const QUESTIONS = 60;
const SUBSCRIBER = 'Auditor';
const TYPES = ['OrderCreated', 'OrderValidated', 'StockReserved', 'PaymentCaptured'];

// The statements that many calls share on PostgreSQL (src/database/shared-statements.ts) join
// the calls' values with a table. Planned badly, each hashes the whole table, a cost that grows
// with it; these look at the plans the service's own sessions get on a log of some size.
(process.env.TEST_DATABASE_URL ? describe : describe.skip)('query plans on a large log', () => {
  let database: Database;

  beforeAll(async () => {
    database = openDatabase({ url: await tempDatabaseUrl() });
    await migrateDatabase(database, serviceMigrations);
    // Eight events per stream (two of each type), each finished by the subscriber (an inbox row DONE).
    await sql`
      INSERT INTO event_log (event_id, type, stream_id, aggregate_type, aggregate_id,
                             aggregate_version, payload, correlation_id, occurred_at, schema_version)
      SELECT 'event-' || g, (${sql.lit(`{${TYPES.join(',')}}`)}::text[])[1 + g % ${sql.lit(TYPES.length)}],
             'stream-' || g / ${sql.lit(PER_STREAM)}, 'Order', 'stream-' || g / ${sql.lit(PER_STREAM)},
             1 + g % ${sql.lit(PER_STREAM)}, '{}', 'c-' || g,
             '2026-01-01T00:00:00.000Z', 1
        FROM generate_series(0, ${sql.lit(EVENTS - 1)}) AS g`.execute(database.writer);
    await sql`
      INSERT INTO deliveries (subscriber, event_id, seq, stream_id, status, attempts, updated_at)
      SELECT ${SUBSCRIBER}, event_id, seq, stream_id, 'DONE', 1, occurred_at FROM event_log
    `.execute(database.writer);
    await sql`ANALYZE`.execute(database.writer);
  }, 60_000);

  afterAll(() => database.close());

  /** A runner whose shared statements are explained, not run: returns each statement's plan. */
  async function plansOf(ask: (runner: StatementRunner) => Promise<unknown>[]): Promise<string[]> {
    const plans: string[] = [];
    const explaining: StatementRunner = {
      dialect: 'postgres',
      db: database.reader,
      sharedStatements: {},
      async runSql<R>(text: string, parameters: readonly unknown[]) {
        const { rows } = await database.reader.executeQuery<Record<string, string>>(
          CompiledQuery.raw(`EXPLAIN ${text}`, [...parameters]),
        );
        plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
        return { rows: [], changes: 0 } as StatementResult<R>;
      },
    };
    await Promise.all(ask(explaining));
    return plans;
  }

  const streams = Array.from({ length: QUESTIONS }, (_, i) =>
    Math.floor((i * EVENTS) / PER_STREAM / QUESTIONS),
  );

  it('looks the inbox up by its key for each message of a moment, not by a scan of the inbox', async () => {
    const plans = await plansOf((runner) =>
      streams.map((stream) =>
        finishedInInbox.run(runner, {
          subscriberId: SUBSCRIBER,
          eventId: `event-${stream * PER_STREAM}`,
        }),
      ),
    );
    expect(plans).toHaveLength(1); // the questions of one moment share one statement
    expect(plans[0]).toMatch(/Index (Only )?Scan using deliveries_pk/);
    expect(plans[0]).not.toMatch(/Seq Scan/);
  });

  it('looks for an unfinished earlier event through the stream index, not by a scan of the log', async () => {
    const plans = await plansOf((runner) =>
      streams.map((stream) =>
        unfinishedEarlier.run(runner, {
          subscriberId: SUBSCRIBER,
          eventTypes: TYPES,
          streamId: `stream-${stream}`,
          seq: EVENTS + 1,
        }),
      ),
    );
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(/event_log_stream_idx/);
    expect(plans[0]).not.toMatch(/Seq Scan/);
  });
});
