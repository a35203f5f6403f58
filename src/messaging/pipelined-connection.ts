import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { connectClient, countQueries, type DatabaseCounters } from '../database/database.js';
import type { DB } from '../database/schema.js';
import type { StatementResult } from '../database/statement.js';
import { messageContext } from './message-context.js';
import type { Connection } from './tx.js';

/** The opened connection: statements of a unit, and plain commands (BEGIN, COMMIT). */
export interface PipelinedSession extends Connection {
  client: pg.Client;
  exec(statement: string): Promise<pg.QueryResult>;
}

/**
 * A PostgreSQL connection of the in-process consumer's own, in pipeline mode (pg >= 8.23): the
 * deliveries of a batch run at the same time in its one transaction, and their statements go to
 * the server without waiting for each other's answers, so a batch pays for its statements, not
 * for one round trip after another. Kysely takes turns on a transaction's connection; here its
 * queries go straight to the client, so they pipeline too.
 */
export class PipelinedConnection {
  private readonly logger = new Logger(PipelinedConnection.name);
  private client?: pg.Client;
  private opened?: PipelinedSession;

  constructor(
    private readonly url: string,
    private readonly counters: DatabaseCounters,
    /** Whose connection it is, for the log: "the consumer's", "the unit of work's". */
    private readonly owner: string,
  ) {}

  /** The connection, opened (again) when there is none. */
  async open(): Promise<PipelinedSession> {
    if (this.opened && this.client) return this.opened;
    const client = await connectClient(
      { connectionString: this.url, pipeline: true },
      (lost, error) => {
        if (lost !== this.client) return;
        this.logger.warn(`${this.owner} connection to PostgreSQL was closed: ${error.message}`);
        this.drop();
      },
    );
    countQueries(client, this.counters);
    // A pool of one that never takes its client back: every query runs on it at once. A unit
    // running the query is told of it (see Tx.noteStatement).
    const shared = {
      query: (text: string, parameters: unknown[]) => {
        messageContext.store()?.tx?.noteStatement(text);
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
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const send = corkedPerTick(client);
    this.client = client;
    this.opened = {
      client,
      dialect: 'postgres',
      db,
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

  /** Closes the connection (a failed batch may have left it in doubt; the next one opens anew). */
  drop(): void {
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
