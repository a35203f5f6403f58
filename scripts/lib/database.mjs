/**
 * What the PostgreSQL test scripts share: a client for a while, and a database of their own next
 * to the one they are given, created at the start and dropped at the end.
 */
import pg from 'pg';

// COUNT(*) and BIGINT columns come back as numbers, as they do from SQLite.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Runs `work` with a PostgreSQL client connected to `url`, and closes it afterwards. */
export async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The database `name` on the server of `adminUrl` (whose own database only serves to create and
 * drop it): { name, url, created, create(), drop() }; drop() does nothing unless create() did.
 */
export function testDatabase(adminUrl, name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = {
    name,
    url: url.toString(),
    created: false,
    async create() {
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
      database.created = true;
    },
    async drop() {
      if (!database.created) return;
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
  return database;
}
