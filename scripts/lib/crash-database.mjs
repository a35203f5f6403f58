/**
 * The database the crash test runs the service on, and how the test reads it back: an SQLite file
 * (opened read-only with better-sqlite3 for each read), or a PostgreSQL database of its own next
 * to the one of an admin URL (lib/database.mjs), created for the run and dropped at its end.
 * Both give { url (the service's DATABASE_URL), name, create(), drop(), readTables() (see
 * lib/invariants.mjs), undeliveredEvents() }.
 */
import Database from 'better-sqlite3';
import { testDatabase, withClient } from './database.mjs';
import { readTables } from './invariants.mjs';

/**
 * Events not handed to every subscriber yet: past the in-process consumer's checkpoint, or with a
 * parked delivery (a RETRY row). The checkpoint is a seq on SQLite; PostgreSQL delivers in
 * (tx_id, seq) order and compares the pair (see src/durable-cqrs/checkpoints.ts).
 */
const UNDELIVERED_SQL = {
  sqlite: `SELECT
  (SELECT COUNT(*) FROM event_log
    WHERE seq > (SELECT seq FROM consumer_checkpoints WHERE consumer = 'in-process'))
  + (SELECT COUNT(DISTINCT event_id) FROM deliveries WHERE status = 'RETRY') AS n`,
  postgres: `SELECT
  (SELECT COUNT(*) FROM event_log
    WHERE (tx_id, seq) >
      (SELECT tx_id, seq FROM consumer_checkpoints WHERE consumer = 'in-process'))
  + (SELECT COUNT(DISTINCT event_id) FROM deliveries WHERE status = 'RETRY') AS n`,
  // Through RabbitMQ: not relayed yet, or a delivery waiting to be tried again. What the broker's
  // queues still hold, the crash test counts there.
  broker: `SELECT
  (SELECT COUNT(*) FROM event_log WHERE relayed = 0)
  + (SELECT COUNT(DISTINCT event_id) FROM deliveries WHERE status = 'RETRY') AS n`,
};

/**
 * What both kinds share: `withQuery(work)` runs `work(query)` on a connection of its own, where
 * `query(sql)` gives the rows (or a promise of them).
 */
function readers(dialect, withQuery) {
  return {
    readTables: () => withQuery(readTables),
    undeliveredEvents: () =>
      withQuery(async (query) => (await query(UNDELIVERED_SQL[dialect]))[0].n),
  };
}

/** The SQLite file `file`; it goes with the folder it is in, so create() and drop() do nothing. */
export function sqliteDatabase(file) {
  return {
    url: `sqlite:${file}`,
    name: file,
    create: async () => undefined,
    drop: async () => undefined,
    ...readers('sqlite', async (work) => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        return await work((sql) => db.prepare(sql).all());
      } finally {
        db.close();
      }
    }),
  };
}

/**
 * The PostgreSQL database `name` on the server of `adminUrl` (see testDatabase); `broker`: the
 * service delivers through RabbitMQ, and undeliveredEvents() counts what the outbox and the inbox
 * still hold.
 */
export function postgresDatabase(adminUrl, name, broker = false) {
  const database = testDatabase(adminUrl, name);
  return {
    url: database.url,
    name,
    create: () => database.create(),
    drop: () => database.drop(),
    ...readers(broker ? 'broker' : 'postgres', (work) =>
      withClient(database.url, (client) => work(async (sql) => (await client.query(sql)).rows)),
    ),
  };
}
