import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Tables } from './tables.js';
import type { StatementRunner } from './statement.js';
import { countQueries, countStatement, type DatabaseCounters } from './counters.js';
import { PipelinedConnection, postgresSession } from './pipelined-connection.js';

export type SqlDialectName = 'sqlite' | 'postgres';

const logger = new Logger('Database');

export interface DatabaseOptions {
  url: string;
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** PostgreSQL connection pool size. */
  poolSize?: number;
}

export interface Database {
  /**
   * The writer (with SQLite, the one writer connection). Only the unit of work writes through it:
   * every write is part of a unit (see UnitOfWork), never a statement of its own.
   */
  writer: Kysely<Tables>;
  /** SQLite: the writer's own connection, on which the unit of work opens and commits turns. */
  sqlite?: SqliteDatabase.Database;
  /**
   * Reads outside transactions: with SQLite a second, read-only connection (WAL lets it read
   * committed data while the writer works), with PostgreSQL a pool of its own, so queries never
   * queue behind writes.
   */
  reader: Kysely<Tables>;
  /**
   * Runs the hot path's prepared statements (see Statement) outside units: on SQLite the reader;
   * on PostgreSQL a pipelined connection of its own (opened at the first statement), so the
   * reads that deliveries and requests make at the same moment leave together.
   */
  readerRunner: StatementRunner;
  dialect: SqlDialectName;
  counters: DatabaseCounters;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Runs compiled SQL on a SQLite connection, synchronously, with its prepared statements. */
export function sqliteRunner(db: Kysely<Tables>, sqlite: SqliteDatabase.Database): StatementRunner {
  return {
    dialect: 'sqlite',
    db,
    runSql<R>(text: string, parameters: readonly unknown[]) {
      const statement = sqlite.prepare(text);
      if (statement.reader) {
        return Promise.resolve({ rows: statement.all(...parameters) as R[], changes: 0 });
      }
      return Promise.resolve({ rows: [], changes: statement.run(...parameters).changes });
    },
  };
}

/** Runs compiled SQL through Kysely on PostgreSQL (a pool, or the connection of a transaction). */
export function postgresRunner(db: Kysely<Tables>): StatementRunner {
  return {
    dialect: 'postgres',
    db,
    async runSql<R>(text: string, parameters: readonly unknown[]) {
      const result = await db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
      return { rows: result.rows, changes: Number(result.numAffectedRows ?? 0) };
    },
  };
}

/** Prepared statements kept per SQLite connection (Kysely prepares every query it runs). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * A better-sqlite3 connection that reuses prepared statements: preparing costs as much as running
 * most of this service's queries. Kysely runs one statement at a time per connection, so a
 * statement is never in use twice at once.
 */
function withStatementCache(
  connection: SqliteDatabase.Database,
  counters: DatabaseCounters,
): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = connection.prepare.bind(connection);
  const exec = connection.exec.bind(connection);
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property === 'exec') {
        return (source: string) => {
          countStatement(counters, source);
          return exec(source);
        };
      }
      if (property !== 'prepare') return Reflect.get(target, property, receiver) as unknown;
      return (source: string) => {
        let statement = cache.get(source);
        if (!statement) {
          if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
          statement = counted(prepare(source), counters);
          cache.set(source, statement);
        }
        return statement;
      };
    },
  });
}

/** The statement, counting each run of it. */
function counted(
  statement: SqliteDatabase.Statement,
  counters: DatabaseCounters,
): SqliteDatabase.Statement {
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
    Object.defineProperty(statement, method, {
      value: (...args: unknown[]) => {
        counters.statements++;
        return original(...args);
      },
    });
  }
  return statement;
}

// BIGINT (int8) and NUMERIC counts come back as numbers: every amount and sequence fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * Opens the database named by DATABASE_URL: `sqlite:<path>` (the file and its folder are
 * created) or `postgres://…` (a connection pool). The same queries and migrations run on both.
 */
export function openDatabase(options: DatabaseOptions): Database {
  if (options.url.startsWith('sqlite:')) {
    const path = options.url.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SqliteDatabase(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'NORMAL'}`);
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    // Keep the indexes in memory (16 MiB of cache) and let a commit append to the WAL without a
    // checkpoint most of the time (one every 8,000 pages instead of every 1,000).
    sqlite.pragma('cache_size = -16384');
    sqlite.pragma('wal_autocheckpoint = 8000');
    const counters: DatabaseCounters = { statements: 0, commits: 0 };
    const cached = withStatementCache(sqlite, counters);
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: cached }) });
    if (path === ':memory:') {
      return {
        writer: db,
        reader: db,
        readerRunner: sqliteRunner(db, cached),
        dialect: 'sqlite',
        sqlite: cached,
        counters,
        close: () => db.destroy(),
      };
    }
    const readConnection = new SqliteDatabase(path, { readonly: true });
    readConnection.pragma('busy_timeout = 5000');
    readConnection.pragma('cache_size = -16384');
    const readCached = withStatementCache(readConnection, counters);
    const reader = new Kysely<Tables>({ dialect: new SqliteDialect({ database: readCached }) });
    return {
      writer: db,
      reader,
      readerRunner: sqliteRunner(reader, readCached),
      dialect: 'sqlite',
      sqlite: cached,
      counters,
      close: async () => {
        await reader.destroy();
        await db.destroy();
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(options.url)) {
    const pool = new pg.Pool({ ...postgresSession(options.url), max: options.poolSize ?? 10 });
    // Queries get a small pool of their own, so reads never wait behind deliveries' writes.
    const readPool = new pg.Pool({
      ...postgresSession(options.url),
      max: Math.max(2, Math.ceil((options.poolSize ?? 10) / 2)),
    });
    // A connection the server closes (a restart, a failover, an administrator) reports an error
    // on its client, checked out or not, and on the pool if it sat idle there; unheard, either
    // would end the process. The work on it fails with a connection error (retried, or a 503),
    // and the pool drops the connection and opens a new one when one is next needed.
    const counters: DatabaseCounters = { statements: 0, commits: 0 };
    for (const [name, each] of [
      ['writer', pool],
      ['reader', readPool],
    ] as const) {
      each.on('connect', (client) => {
        client.on('error', (error) =>
          logger.warn(`A ${name} connection to PostgreSQL was closed: ${error.message}`),
        );
        countQueries(client, counters);
      });
      each.on('error', () => undefined); // logged by the client's own listener above
    }
    const reader = new Kysely<Tables>({ dialect: new PostgresDialect({ pool: readPool }) });
    const writer = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    const reads = new PipelinedConnection(options.url, counters, "The readers'");
    return {
      writer,
      reader,
      readerRunner: {
        dialect: 'postgres',
        db: reader,
        async runSql<R>(text: string, parameters: readonly unknown[]) {
          return (await reads.open()).runSql<R>(text, parameters);
        },
        sharedStatements: reads,
      },
      dialect: 'postgres',
      counters,
      close: async () => {
        reads.close();
        await reader.destroy();
        await writer.destroy();
      },
    };
  }
  throw new Error(`Unsupported DATABASE_URL: ${options.url}`);
}
