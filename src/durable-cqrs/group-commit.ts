import type { Kysely } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import { crashPoint } from './crash-points.js';
import type { Tables } from './database/tables.js';
import type { CommitSignal } from './commit-signal.js';
import { messageContext, type MessageContext } from './message-context.js';
import { sqliteConnection, Tx, type Connection } from './tx.js';

export type Work<T> = (tx: Tx) => Promise<T>;

/** A unit of work waiting for its commit, and its caller. */
export interface Pending {
  work: Work<unknown>;
  context: MessageContext;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * How many units one commit may carry, and how many of them may be deliveries: many when no
 * request waits (bigger groups, fewer commits), few when requests wait, so a turn stays short.
 * The few are the deliveries' guaranteed share.
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

/** Told how many units each commit carried. */
export type CommitObserver = (units: number) => void;

/** Runs a unit's work on `tx`, then the nested work it did not wait for. */
export async function runIn(unit: Pending, tx: Tx): Promise<unknown> {
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
 * Group commit: units submitted while a commit is under way wait, and the next turn takes every
 * unit that is ready (requests first, then a bounded share of deliveries) into one transaction.
 * Callers are answered, and the consumer is woken, only after the commit. A unit runs only
 * database work (never a network call), so a turn never waits on the outside world. Subclasses
 * say how a turn runs its units on their database.
 */
export abstract class GroupCommit {
  private readonly requests: Pending[] = [];
  private readonly background: Pending[] = [];
  private scheduled = false;
  private running = false;
  readonly stats: GroupCommitStats = { commits: 0, units: 0, waiting: 0 };

  constructor(
    protected readonly signal: CommitSignal,
    private readonly observe: CommitObserver,
  ) {}

  submit(unit: Pending): void {
    (unit.context.background ? this.background : this.requests).push(unit);
    this.stats.waiting++;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // After the I/O callbacks of this loop turn: requests that arrived meanwhile join the group.
    setImmediate(() => void this.turn());
  }

  private async turn(): Promise<void> {
    this.scheduled = false;
    const group = this.requests.splice(0, MAX_REQUEST_UNITS);
    const share = group.length > 0 ? BACKGROUND_SHARE_BESIDE_REQUESTS : MAX_BACKGROUND_UNITS;
    group.push(...this.background.splice(0, share));
    if (group.length === 0) return;
    this.running = true;
    this.stats.waiting -= group.length;
    try {
      await this.commit(group);
    } finally {
      this.running = false;
      if (this.requests.length > 0 || this.background.length > 0) this.schedule();
    }
  }

  /** Runs the units of a turn and answers every one of them. */
  protected abstract commit(group: Pending[]): Promise<void>;

  /** A transaction carrying `units` ended (committed or rolled back). */
  protected counted(units: number): void {
    this.stats.commits++;
    this.stats.units += units;
    this.observe(units);
  }
}

/**
 * SQLite: one writer turn (`BEGIN IMMEDIATE` … `COMMIT`) runs the units one after the other, each
 * in its own savepoint, so a unit that throws rolls back alone, and commits once: one fsync and
 * one turn at the single writer for many units.
 */
export class SqliteGroupCommit extends GroupCommit {
  private readonly connection: Connection;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly db: Kysely<Tables>,
    signal: CommitSignal,
    observe: CommitObserver,
  ) {
    super(signal, observe);
    this.connection = sqliteConnection(db, sqlite);
  }

  protected async commit(group: Pending[]): Promise<void> {
    const outcomes: Array<{ value?: unknown; failure?: { error: unknown }; tx?: Tx }> = [];
    let lost: { error: unknown } | undefined;
    try {
      this.sqlite.exec('BEGIN IMMEDIATE');
      for (const unit of group) outcomes.push(await this.run(unit));
      crashPoint('tx-before-commit');
      this.sqlite.exec('COMMIT');
    } catch (error) {
      // BEGIN, a savepoint or COMMIT failed: nothing of this turn is stored.
      lost = { error };
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
    }
    this.counted(group.length);
    try {
      if (!lost) {
        crashPoint('tx-after-commit');
        const events = outcomes.flatMap((o) => (o.failure ? [] : o.tx!.appended));
        if (events.length > 0) this.signal.committed(events);
      }
    } finally {
      group.forEach((unit, i) => {
        const failure = lost ?? outcomes[i]?.failure;
        if (failure) unit.reject(failure.error);
        else unit.resolve(outcomes[i].value);
      });
    }
  }

  private async run(
    unit: Pending,
  ): Promise<{ value?: unknown; failure?: { error: unknown }; tx?: Tx }> {
    const tx = new Tx(this.db, 'sqlite', this.connection);
    this.sqlite.exec('SAVEPOINT unit');
    try {
      const value = await runIn(unit, tx);
      // A delivery's unit that fails after its writes, inside a batch of others (crash test).
      if (unit.context.background) crashPoint('unit-throws');
      this.sqlite.exec('RELEASE unit');
      return { value, tx };
    } catch (error) {
      this.sqlite.exec('ROLLBACK TO unit');
      this.sqlite.exec('RELEASE unit');
      return { failure: { error } };
    }
  }
}
