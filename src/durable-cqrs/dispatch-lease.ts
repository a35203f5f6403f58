import { Inject, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { RuntimeOptions } from './runtime-options.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import { connectClient } from './database/pipelined-connection.js';
import { describeError } from './describe-error.js';

/** Key of the session advisory lock that the delivering instance holds (any fixed value). */
const DISPATCH_LOCK_KEY = 7_355_609;

/**
 * Which instance delivers events in-process, when several run on one PostgreSQL database without
 * a broker. Each would otherwise deliver every event: harmless to state (every write is guarded),
 * but work done twice and, for the e-mail, possibly a message sent twice. The instance that holds
 * a session advisory lock on a connection of its own delivers; the others take requests (their
 * events wait in the log) and try for the lock at each poll, so one of them takes over when the
 * holder stops or dies (its session ends and PostgreSQL releases the lock). With SQLite there is
 * one process per file, and the lease is always held.
 */
@Injectable()
export class DispatchLease {
  private readonly logger = new Logger(DispatchLease.name);
  private client?: pg.Client;
  private holding = false;
  /** Whether the last attempt to ask for the lease failed (warned once per outage). */
  private unreachable = false;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: RuntimeOptions,
  ) {}

  /** Whether this instance delivers now. */
  get held(): boolean {
    return this.database.dialect !== 'postgres' || this.holding;
  }

  /** Takes the lease if it is free (or keeps it); whether it is held afterwards. */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    try {
      this.client ??= await this.connect();
      const result = await this.client.query<{ taken: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS taken',
        [DISPATCH_LOCK_KEY],
      );
      this.holding = result.rows[0].taken;
      this.unreachable = false;
      if (this.holding) this.logger.log('This instance delivers events');
    } catch (error: unknown) {
      if (!this.unreachable) {
        this.logger.warn(`Could not ask for the delivery lease: ${describeError(error)}`);
      }
      this.unreachable = true;
      this.drop();
    }
    return this.holding;
  }

  /** Gives the lease back (the session ends). */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.holding = false;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    // The session is the lease: if the server closes it, the lock is gone with it.
    return connectClient({ connectionString: this.config.databaseUrl }, (client, error) => {
      if (client !== this.client) return;
      this.logger.warn(`Lost the delivery lease's connection: ${error.message}`);
      this.drop();
    });
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.holding = false;
    void client?.end().catch(() => undefined);
  }
}
