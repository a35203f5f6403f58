import { sql, type Kysely } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import { postgresRunner, sqliteRunner, type SqlDialectName } from './database/database.js';
import type { Tables } from './database/tables.js';
import type { StatementResult, StatementRunner } from './database/statement.js';
import type { DomainEvent } from './domain-event.js';

/** The connection a unit runs on: plain statements (savepoints) and compiled SQL. */
export interface Connection extends StatementRunner {
  exec(statement: string): unknown;
}

export function sqliteConnection(db: Kysely<Tables>, sqlite: SqliteDatabase.Database): Connection {
  return Object.assign(sqliteRunner(db, sqlite), {
    exec: (statement: string) => sqlite.exec(statement),
  });
}

export function postgresConnection(trx: Kysely<Tables>): Connection {
  return Object.assign(postgresRunner(trx), {
    exec: (statement: string) => sql.raw(statement).execute(trx),
  });
}

/**
 * Events appended by the deliveries of one PostgreSQL batch, kept until its end and then stored
 * by one statement (see EventStore.storeDeferred): each keeps the row built when it was appended.
 */
export class DeferredEvents {
  readonly entries: Array<{ event: DomainEvent; row: Record<string, unknown> }> = [];
}

/** Statements that only read: a unit that sent nothing else has changed nothing. */
const READS = /^\s*(select|show)\b/i;

/**
 * One unit of work: the writes of one use case and the events they raise, which commit together.
 * A unit runs in a savepoint of its own, so it can fail alone; a transaction opened while a unit
 * runs (a command sent by a saga, `EventBus.publish` in a handler) is nested in it the same way.
 */
export class Tx implements StatementRunner {
  /** Events appended to the log by this unit, handed to the consumer once it has committed. */
  readonly appended: DomainEvent[] = [];
  /** Whether the unit sent a statement that may have changed something (see `noteStatement`). */
  wrote = false;
  /**
   * Without savepoints: nested work that failed, whose writes could not be undone alone. The
   * unit must not commit as it is, even if its own code caught the failure and went on; it runs
   * again where it can be undone (a unit of its own, with savepoints).
   */
  nestedFailure?: { error: unknown };
  /**
   * Set on the deliveries of a PostgreSQL batch: the events they append wait here and are stored
   * together when the batch ends, in the same transaction (their `meta` is attached then).
   */
  deferredEvents?: DeferredEvents;
  private depth = 0;
  private open = new Set<Promise<unknown>>();

  constructor(
    /** The writer: queries run on the connection that holds the open transaction. */
    readonly db: Kysely<Tables>,
    readonly dialect: SqlDialectName,
    private readonly connection: Connection,
    /**
     * False when the unit shares its transaction with other units running at the same time (a
     * PostgreSQL batch of deliveries, a group of units on PostgreSQL): nested work joins it
     * without a savepoint, and a failure undoes the whole transaction (see `nestedFailure`).
     */
    private readonly savepoints = true,
  ) {}

  /**
   * A unit of its own in this unit's transaction, without savepoints: the deliveries of a batch
   * that run at the same time in one SQLite unit (see BatchConsumer).
   */
  sharing(): Tx {
    return new Tx(this.db, this.dialect, this.connection, false);
  }

  get sharedStatements(): object | undefined {
    return this.connection.sharedStatements;
  }

  runSql<R>(text: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
    this.noteStatement(text);
    return this.connection.runSql<R>(text, parameters);
  }

  noteWrite(): void {
    this.wrote = true;
  }

  /** A shared statement of this unit still to be answered: the unit settles only after it. */
  track(pending: Promise<unknown>): void {
    this.open.add(pending);
    const done = () => this.open.delete(pending);
    pending.then(done, done);
  }

  /** Told of every statement the unit sends (the connection calls it for Kysely's queries). */
  noteStatement(text: string): void {
    if (!this.wrote && !READS.test(text)) this.wrote = true;
  }

  private exec(statement: string): unknown {
    return this.connection.exec(statement);
  }

  /** Row locks where the database has them (PostgreSQL); SQLite has one writer anyway. */
  get locksRows(): boolean {
    return this.dialect === 'postgres';
  }

  /**
   * Runs work in a savepoint of this unit: if it throws, its writes and events are undone. The
   * unit does not end before it: `AggregateRoot.commit()` publishes without returning a promise,
   * so a handler may return while the events it committed are still being appended.
   */
  nested<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const running = this.runNested(work);
    this.open.add(running);
    const done = () => this.open.delete(running);
    running.then(done, done);
    return running;
  }

  /**
   * Waits for the nested work the unit's own code did not wait for; a failure of it fails the unit
   * (its state would otherwise commit without its events).
   */
  async settle(): Promise<void> {
    while (this.open.size > 0) await Promise.all(this.open);
  }

  /** Waits for all nested work under way to end, however it ends. */
  async settleQuietly(): Promise<void> {
    while (this.open.size > 0) await Promise.allSettled(this.open);
  }

  private async runNested<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!this.savepoints) {
      try {
        return await work(this);
      } catch (error) {
        this.nestedFailure ??= { error };
        throw error;
      }
    }
    const name = `nested_${++this.depth}`;
    const mark = this.appended.length;
    await this.exec(`SAVEPOINT ${name}`);
    try {
      const value = await work(this);
      await this.exec(`RELEASE ${name}`);
      return value;
    } catch (error) {
      await this.exec(`ROLLBACK TO ${name}`);
      await this.exec(`RELEASE ${name}`);
      this.appended.length = mark;
      throw error;
    } finally {
      this.depth--;
    }
  }
}
