import pg from 'pg';
import { migrateDatabase, openDatabase, type Database } from '../src/durable-cqrs/index.js';
import { serviceMigrations } from '../src/database/migrations.js';
import type { StatementRunner } from '../src/durable-cqrs/database/statement.js';
import { takeStocks } from '../src/inventory/infrastructure/stock-statements.js';
import { removeTempDatabases, tempDatabaseUrl } from './create-test-app.js';

afterAll(() => removeTempDatabases());

const PRODUCTS = Array.from({ length: 10 }, (_, i) => `locking-${i}`);
const LAST = PRODUCTS[PRODUCTS.length - 1];

/** Polls `check` until it holds, at most `ms`. */
async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// The stock moves that the orders of a batch or a group share (one statement per kind of move)
// lock the products they move in the order of their ids. Locked in the order their join met
// them, two instances moving the same products at once deadlocked, and PostgreSQL took a second
// (deadlock_timeout) to break each deadlock: the cluster test met dozens in a run.
(process.env.TEST_DATABASE_URL ? describe : describe.skip)('shared stock moves', () => {
  let database: Database;
  let url: string;
  const clients: pg.Client[] = [];

  async function client(): Promise<pg.Client> {
    const connected = new pg.Client({ connectionString: url });
    await connected.connect();
    clients.push(connected);
    return connected;
  }

  beforeAll(async () => {
    url = await tempDatabaseUrl();
    database = openDatabase({ url });
    await migrateDatabase(database, serviceMigrations);
    const setup = await client();
    // Stored last to first: a statement that locks rows in the order it finds them in the table
    // would lock the last one first.
    for (const id of [...PRODUCTS].reverse()) {
      await setup.query(
        `INSERT INTO products (product_id, name, unit_price, available, reserved, sold, version,
                               updated_at)
         VALUES ($1, $1, 100, 10, 0, 0, 1, '2026-01-01T00:00:00.000Z')`,
        [id],
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const connected of clients) await connected.end();
    await database.close();
  });

  it('lock their products in the order of their ids, whatever the order of the calls', async () => {
    const [holder, mover, probe] = [await client(), await client(), await client()];
    // Another transaction holds the product that comes last in id order.
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM products WHERE product_id = $1 FOR UPDATE', [LAST]);

    // The calls of one turn share one statement, run on the mover's transaction.
    const runner: StatementRunner = {
      dialect: 'postgres',
      db: database.writer,
      sharedStatements: {},
      async runSql<R>(text: string, parameters: readonly unknown[]) {
        const result = await mover.query(text, [...parameters]);
        return { rows: result.rows as R[], changes: result.rowCount ?? 0 };
      },
    };
    await mover.query('BEGIN');
    const moverPid = (await mover.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
      .pid;
    const taking = Promise.all([...PRODUCTS].reverse().map((id) => takeStocks.run(runner, id, 1)));

    // The move waits for the last product, holding every other one already.
    await until(async () => {
      const { rows } = await probe.query<{ waiting: boolean }>(
        `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
        [moverPid],
      );
      return rows[0]?.waiting === true;
    });
    const held: string[] = [];
    for (const id of PRODUCTS.slice(0, -1)) {
      await probe.query('BEGIN');
      try {
        await probe.query('SELECT 1 FROM products WHERE product_id = $1 FOR UPDATE NOWAIT', [id]);
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available
        held.push(id);
      }
      await probe.query('ROLLBACK');
    }
    expect(held).toEqual(PRODUCTS.slice(0, -1));

    // Once the other transaction ends, every line is taken.
    await holder.query('ROLLBACK');
    expect(await taking).toEqual(PRODUCTS.map(() => 1));
    await mover.query('COMMIT');
    const { rows } = await probe.query<{ available: string; reserved: string }>(
      "SELECT available, reserved FROM products WHERE product_id LIKE 'locking-%' ORDER BY product_id",
    );
    expect(rows.map((row) => [Number(row.available), Number(row.reserved)])).toEqual(
      PRODUCTS.map(() => [9, 1]),
    );
  });
});
