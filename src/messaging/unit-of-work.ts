import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import { crashPoint } from '../common/crash-points.js';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { DATABASE } from '../database/database.tokens.js';
import {
  postgresRunner,
  sqliteRunner,
  type Database,
  type SqlDialectName,
} from '../database/database.js';
import type { DB } from '../database/schema.js';
import type { StatementResult, StatementRunner } from '../database/statement.js';
import { CommitSignal } from './commit-signal.js';
import type { DomainEvent } from './domain-event.js';
import { messageContext, type MessageContext } from './message-context.js';

/** The connection a unit runs on: plain statements (savepoints) and compiled SQL. */
export interface Connection extends StatementRunner {
  exec(statement: string): unknown;
}

function sqliteConnection(db: Kysely<DB>, sqlite: SqliteDatabase.Database): Connection {
  return Object.assign(sqliteRunner(db, sqlite), {
    exec: (statement: string) => sqlite.exec(statement),
  });
}

function postgresConnection(trx: Kysely<DB>): Connection {
  return Object.assign(postgresRunner(trx), {
    exec: (statement: string) => sql.raw(statement).execute(trx),
  });
}

/**
 * One unit of work: the writes of one use case and the events they raise, which commit together.
 * A unit runs in a savepoint of its own, so it can fail alone; a transaction opened while a unit
 * runs (a command sent by a saga, `EventBus.publish` in a handler) is nested in it the same way.
 */
export class Tx implements StatementRunner {
  /** Events appended to the log by this unit, handed to the consumer once it has committed. */
  readonly appended: DomainEvent[] = [];
  private depth = 0;
  private open = new Set<Promise<unknown>>();

  constructor(
    /** The writer: queries run on the connection that holds the open transaction. */
    readonly db: Kysely<DB>,
    readonly dialect: SqlDialectName,
    private readonly connection: Connection,
    /**
     * False for a delivery of a PostgreSQL batch: it shares the batch's transaction with other
     * deliveries running at the same time, so nested work joins it without a savepoint, and a
     * failure undoes the whole batch (which runs again without the failed delivery).
     */
    private readonly savepoints = true,
  ) {}

  runSql<R>(text: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
    return this.connection.runSql<R>(text, parameters);
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

  /**
   * Runs one delivery of a batch in a savepoint of this unit: if it throws, or nested work it
   * did not wait for fails, its writes and events are undone and the batch goes on without it.
   * The deliveries of a batch run one after the other, so the nested work under way during
   * `work` is its own.
   */
  async isolated<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const outer = this.open;
    this.open = new Set();
    try {
      return await this.runNested(async (tx) => {
        try {
          const value = await work(tx);
          await this.settle();
          return value;
        } catch (error) {
          await this.settleQuietly();
          throw error;
        }
      });
    } finally {
      this.open = outer;
    }
  }

  private async runNested<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (!this.savepoints) return work(this);
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

type Work<T> = (tx: Tx) => Promise<T>;

interface Pending {
  work: Work<unknown>;
  context: MessageContext;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  value?: unknown;
  failure?: { error: unknown };
  tx?: Tx;
}

/**
 * How many units one commit may carry, and how many of them may be deliveries: many when no
 * request waits (bigger batches, fewer commits), few when requests wait, so a turn, during which
 * the process answers nothing, stays short. The few are the deliveries' guaranteed share.
 */
const MAX_REQUEST_UNITS = 512;
const MAX_BACKGROUND_UNITS = 128;
const BACKGROUND_SHARE_BESIDE_REQUESTS = 16;

export interface GroupCommitStats {
  /** Commits made (writer turns on SQLite, transactions on PostgreSQL). */
  commits: number;
  /** Units of work committed or rolled back in them. */
  units: number;
  /** Units waiting for a commit now. */
  waiting: number;
}

interface Writer {
  submit(unit: Pending): void;
  readonly stats: GroupCommitStats;
}

/** Told how many units each commit carried. */
type CommitObserver = (units: number) => void;

async function runIn(unit: Pending, tx: Tx): Promise<unknown> {
  let value: unknown;
  try {
    value = await messageContext.run({ ...unit.context, tx }, () => unit.work(tx));
  } catch (error) {
    // Let nested work still under way finish before the unit is rolled back under it.
    await tx.settleQuietly();
    throw error;
  }
  await tx.settle();
  return value;
}

/**
 * SQLite group commit. One writer turn (`BEGIN IMMEDIATE` … `COMMIT`) takes every unit that is
 * ready, requests first and then a bounded share of deliveries, runs each in its own savepoint
 * and commits once: one fsync and one turn at the single writer for many units. Callers are
 * answered, and the consumer is woken, only after the commit. A unit runs only database work
 * (never a network call), so a turn never waits on the outside world.
 */
class SqliteGroupCommit implements Writer {
  private readonly requests: Pending[] = [];
  private readonly background: Pending[] = [];
  private scheduled = false;
  private running = false;
  readonly stats: GroupCommitStats = { commits: 0, units: 0, waiting: 0 };
  private readonly connection: Connection;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly db: Kysely<DB>,
    private readonly signal: CommitSignal,
    private readonly observe: CommitObserver,
  ) {
    this.connection = sqliteConnection(db, sqlite);
  }

  submit(unit: Pending): void {
    (unit.context.background ? this.background : this.requests).push(unit);
    this.stats.waiting++;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // After the I/O callbacks of this loop turn: requests that arrived meanwhile join the batch.
    setImmediate(() => void this.turn());
  }

  private async turn(): Promise<void> {
    this.scheduled = false;
    const batch = this.requests.splice(0, MAX_REQUEST_UNITS);
    const share = batch.length > 0 ? BACKGROUND_SHARE_BESIDE_REQUESTS : MAX_BACKGROUND_UNITS;
    batch.push(...this.background.splice(0, share));
    if (batch.length === 0) return;
    this.running = true;
    this.stats.waiting -= batch.length;
    let lost: { error: unknown } | undefined;
    try {
      this.sqlite.exec('BEGIN IMMEDIATE');
      for (const unit of batch) await this.run(unit);
      crashPoint('tx-before-commit');
      this.sqlite.exec('COMMIT');
    } catch (error) {
      // BEGIN, a savepoint or COMMIT failed: nothing of this turn is stored.
      lost = { error };
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
    }
    this.stats.commits++;
    this.stats.units += batch.length;
    this.observe(batch.length);
    try {
      if (!lost) {
        crashPoint('tx-after-commit');
        const events = batch.flatMap((unit) => (unit.failure ? [] : unit.tx!.appended));
        if (events.length > 0) this.signal.committed(events);
      }
    } finally {
      for (const unit of batch) {
        const failure = lost ?? unit.failure;
        if (failure) unit.reject(failure.error);
        else unit.resolve(unit.value);
      }
      this.running = false;
      if (this.requests.length > 0 || this.background.length > 0) this.schedule();
    }
  }

  private async run(unit: Pending): Promise<void> {
    const tx = new Tx(this.db, 'sqlite', this.connection);
    this.sqlite.exec('SAVEPOINT unit');
    try {
      unit.value = await runIn(unit, tx);
      // A delivery's unit that fails after its writes, inside a batch of others (crash test).
      if (unit.context.background) crashPoint('unit-throws');
      this.sqlite.exec('RELEASE unit');
      unit.tx = tx;
    } catch (error) {
      this.sqlite.exec('ROLLBACK TO unit');
      this.sqlite.exec('RELEASE unit');
      unit.failure = { error };
    }
  }
}

/**
 * PostgreSQL: each unit is a transaction of its own on a pooled connection; several run at once
 * and the server commits them together. Requests go first here too: units wait in two queues for
 * one of `slots` connections, requests ahead of deliveries, and deliveries never take the last
 * slot, so a request never queues at the pool behind a backlog of deliveries.
 */
class PostgresUnits implements Writer {
  readonly stats: GroupCommitStats = { commits: 0, units: 0, waiting: 0 };
  private readonly requests: Pending[] = [];
  private readonly background: Pending[] = [];
  private running = 0;
  private runningBackground = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly signal: CommitSignal,
    private readonly slots: number,
    private readonly observe: CommitObserver,
  ) {}

  submit(unit: Pending): void {
    (unit.context.background ? this.background : this.requests).push(unit);
    this.stats.waiting++;
    this.pump();
  }

  private pump(): void {
    while (this.running < this.slots) {
      let unit = this.requests.shift();
      if (!unit && this.runningBackground < this.slots - 1) unit = this.background.shift();
      if (!unit) return;
      this.stats.waiting--;
      this.running++;
      const background = unit.context.background === true;
      if (background) this.runningBackground++;
      void this.run(unit).finally(() => {
        this.running--;
        if (background) this.runningBackground--;
        this.pump();
      });
    }
  }

  private async run(unit: Pending): Promise<void> {
    let tx: Tx | undefined;
    try {
      const value = await this.db.transaction().execute(async (trx) => {
        tx = new Tx(trx, 'postgres', postgresConnection(trx));
        const result = await runIn(unit, tx);
        if (unit.context.background) crashPoint('unit-throws');
        crashPoint('tx-before-commit');
        return result;
      });
      this.stats.commits++;
      this.stats.units++;
      this.observe(1);
      crashPoint('tx-after-commit');
      if (tx!.appended.length > 0) this.signal.committed(tx!.appended);
      unit.resolve(value);
    } catch (error) {
      unit.reject(error);
    }
  }
}

/**
 * Runs work as a unit of work: its state changes and the events they raise commit together, and
 * the consumer is told at once after the commit. Called while a unit runs, it nests in that unit.
 */
@Injectable()
export class UnitOfWork {
  private readonly writer: Writer;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    signal: CommitSignal,
    config: AppConfig,
    metrics: Metrics,
  ) {
    const observe: CommitObserver = (units) => metrics.groupCommitUnits.observe(units);
    metrics.countDatabaseWith(database.counters);
    this.writer =
      database.dialect === 'sqlite'
        ? new SqliteGroupCommit(database.sqlite!, database.writer, signal, observe)
        : // Leave a connection of the pool to the relay (RabbitMQ) and to the odd direct query.
          new PostgresUnits(
            database.writer,
            signal,
            Math.max(2, config.databasePoolSize - 1),
            observe,
          );
  }

  transaction<T>(work: Work<T>): Promise<T> {
    const context = messageContext.store();
    if (context?.tx) return context.tx.nested(work);
    return new Promise<T>((resolve, reject) =>
      this.writer.submit({
        work,
        context: context ?? { correlationId: randomUUID(), causationId: null },
        resolve: resolve as (value: unknown) => void,
        reject,
      }),
    );
  }

  /**
   * PostgreSQL only: a transaction of its own, outside group commit, for work that holds row locks
   * across a wait on the outside world (the relay claims events until the broker confirms them).
   */
  lockingTransaction<T>(work: Work<T>): Promise<T> {
    if (this.database.dialect !== 'postgres') {
      throw new Error('lockingTransaction needs PostgreSQL');
    }
    return this.database.writer
      .transaction()
      .execute((trx) => work(new Tx(trx, 'postgres', postgresConnection(trx))));
  }

  /** Whether the code running now is inside a unit of work. */
  get inUnit(): boolean {
    return messageContext.store()?.tx !== undefined;
  }

  /**
   * Where a read of the code running now goes: its unit, inside one (a delivery sees the writes
   * of its batch, and on PostgreSQL the read joins the batch's pipelined statements), else the
   * read pool, which sees what has committed.
   */
  reader(): StatementRunner {
    return messageContext.store()?.tx ?? this.database.readerRunner;
  }

  get stats(): Readonly<GroupCommitStats> {
    return this.writer.stats;
  }
}

/** Code inside a unit of work was about to call the outside world. */
export class CallOutInsideUnit extends Error {
  override name = 'CallOutInsideUnit';
  constructor(what: string) {
    super(`${what} called inside a unit of work`);
  }
}

/**
 * Adapters call this before they call the outside world (a payment provider, a mail server).
 * Inside a unit of work it throws, so the unit rolls back: the delivery is parked and runs again
 * outside any unit, and no transaction is ever held across a network call. Outside, it notes the
 * call, so the runtime parks the next such delivery at once instead of trying it in a unit.
 */
export function callingOut(what: string): void {
  const context = messageContext.store();
  if (!context) return;
  if (context.tx) throw new CallOutInsideUnit(what);
  context.calledOut = true;
}
