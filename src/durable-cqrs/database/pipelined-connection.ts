import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { countQueries, type DatabaseCounters } from './counters.js';
import type { Tables } from './tables.js';
import type { StatementResult, StatementRunner } from './statement.js';

/** The opened connection: statements of a unit, and plain commands (BEGIN, COMMIT). */
export interface PipelinedSession extends StatementRunner {
  client: pg.Client;
  exec(statement: string): Promise<pg.QueryResult>;
}

/**
 * A PostgreSQL connection in pipeline mode (pg >= 8.23), outside the pools: statements sent at the
 * same moment go to the server without waiting for each other's answers, and leave in one socket
 * write per tick, so many units (a group of units, a batch of deliveries, concurrent reads) pay
 * for their statements, not for one round trip and one system call after another. Kysely takes
 * turns on a transaction's connection; here its queries go straight to the client, so they
 * pipeline too. A lost connection is dropped; the next `open` connects again.
 */
export class PipelinedConnection {
  private readonly logger = new Logger(PipelinedConnection.name);
  private client?: pg.Client;
  private opened?: PipelinedSession;
  private opening?: Promise<PipelinedSession>;
  /** Raised by every drop: a connection that opens after it is closed at once. */
  private generation = 0;
  /** Closed for good (the application is closing): nothing opens any more. */
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly counters: DatabaseCounters,
    /** Whose connection it is, for the log: "The consumer's", "A reader's". */
    private readonly owner: string,
    /** Told of every statement sent through the session's query builder (`db`). */
    private readonly onStatement?: (text: string) => void,
  ) {}

  /** The connection, opened (again) when there is none; callers at the same moment share one. */
  open(): Promise<PipelinedSession> {
    if (this.closed) return Promise.reject(closedError(this.owner));
    if (this.opened && this.client) return Promise.resolve(this.opened);
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async connect(): Promise<PipelinedSession> {
    const generation = this.generation;
    const client = await connectClient(
      { ...postgresSession(this.url), pipeline: true },
      (lost, error) => {
        if (lost !== this.client) return;
        this.logger.warn(`${this.owner} connection to PostgreSQL was closed: ${error.message}`);
        this.drop();
      },
    );
    if (generation !== this.generation) {
      // Dropped while connecting (the application is closing): this connection is not wanted.
      await client.end().catch(() => undefined);
      throw closedError(this.owner);
    }
    countQueries(client, this.counters);
    // A pool of one that never takes its client back: every query runs on it at once.
    const shared = {
      query: (text: string, parameters: unknown[]) => {
        this.onStatement?.(text);
        return client.query(text, parameters);
      },
      release: () => undefined,
    };
    const pool: PostgresPool = {
      connect: () => {
        send();
        return Promise.resolve(shared as unknown as PostgresPoolClient);
      },
      end: () => Promise.resolve(),
    };
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    const send = corkedPerTick(client);
    this.client = client;
    this.opened = {
      client,
      dialect: 'postgres',
      db,
      sharedStatements: this,
      async runSql<R>(text: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
        send();
        const result = await client.query(text, [...parameters]);
        return { rows: result.rows as R[], changes: result.rowCount ?? 0 };
      },
      exec: (statement: string): Promise<pg.QueryResult> => {
        send();
        return client.query(statement);
      },
    };
    return this.opened;
  }

  /** Closes the connection for good: `open` fails from now on. */
  close(): void {
    this.closed = true;
    this.drop();
  }

  /** Closes the connection (a failed batch may have left it in doubt; the next one opens anew). */
  drop(): void {
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.opened = undefined;
    void client?.end().catch(() => undefined);
  }
}

/**
 * Holds the client's socket writes until the end of the current tick: the statements that the
 * deliveries of a batch send at the same moment leave in one write (one system call) instead of
 * one each. pg corks the socket around each query itself; this adds one cork around them all.
 */
function corkedPerTick(client: pg.Client): () => void {
  let corked = false;
  return () => {
    const stream = (client as unknown as { connection?: { stream?: NodeJS.WritableStream } })
      .connection?.stream as
      (NodeJS.WritableStream & { cork?(): void; uncork?(): void }) | undefined;
    if (corked || !stream?.cork || !stream.uncork) return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork!();
    });
  };
}

/**
 * Planner settings the runtime sets on each of its sessions, so the database needs no change:
 * `random_page_cost = 1.1` (the default, 4, is meant for spinning disks), so a statement that
 * joins the values of many calls (`unnest`, see shared-statements.ts) with a table looks each up
 * by its index instead of hashing the whole table: checked with EXPLAIN on a log of 1.6 million
 * events and 200,000 aggregates' rows, and measured (the README's Performance section). Plans stay custom:
 * the statements are unnamed, so each is planned with its values. `options` in DATABASE_URL
 * replaces these settings.
 */
const SESSION_OPTIONS = '-c random_page_cost=1.1';

/** The client configuration of a session of the service on `url`. */
export function postgresSession(url: string): pg.ClientConfig {
  return { connectionString: url, options: SESSION_OPTIONS };
}

/**
 * A connection of its own to PostgreSQL, outside the pools (the delivery lease, the consumer's
 * pipelined connection). `onLost` hears of the server closing it; a failed connect ends it.
 */
export async function connectClient(
  config: pg.ClientConfig,
  onLost: (client: pg.Client, error: Error) => void,
): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', (error) => onLost(client, error));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** SQLSTATE 08003, connection does not exist: a connection error like any other (a 503). */
function closedError(owner: string): Error {
  return Object.assign(new Error(`${owner} connection to PostgreSQL is closed`), {
    code: '08003',
  });
}
