import { crashPoint } from './crash-points.js';
import {
  followsAnotherFailure,
  isConnectionError,
  isDatabaseError,
  isTransactionConflict,
} from './database/connection-errors.js';
import type { CommitSignal } from './commit-signal.js';
import { GroupCommit, runIn, type CommitObserver, type Pending } from './group-commit.js';
import type { PipelinedConnection, PipelinedSession } from './database/pipelined-connection.js';
import { DeferredEvents, Tx } from './tx.js';

/** Stores the events units of a group appended, in its transaction (EventStore.storeDeferred). */
export type StoreEvents = (tx: Tx, deferred: DeferredEvents) => Promise<void>;

/** How often a group refused for a conflict with another transaction (a deadlock) runs again. */
const CONFLICT_RETRIES = 3;

interface Outcome {
  tx: Tx;
  value?: unknown;
  failure?: { error: unknown };
}

/** What to do after a round: groups to run next (their order kept); nothing when all answered. */
type Next = Pending[][];

/**
 * PostgreSQL group commit. The units of a turn run at the same time in ONE transaction on a
 * pipelined connection of the unit of work's own (see PipelinedConnection): their statements go
 * to the server without waiting for each other's answers, and they share one commit, instead of
 * a transaction, a pool connection and four to six round trips each.
 *
 * Units of one group do not wait for each other's row locks (they hold the same transaction), so
 * a unit's writes must be guarded by the state they change (a version, a conditional update),
 * the guard written before the effects it decides, as every repository here does: a conflict
 * then fails the later unit (which runs again alone) or makes it do nothing.
 *
 * Without savepoints a failed unit cannot be undone alone, so:
 * - a unit that fails without having written anything, while the transaction is intact, fails
 *   alone (its neighbours commit);
 * - otherwise the group rolls back, each unit that failed of its own runs again alone (with
 *   savepoints, in a transaction of its own: its answer is final), and the others run again
 *   together; when no unit can be blamed (the database refused the commit) the group is split in
 *   halves until the bad unit is alone;
 * - a deadlock with another transaction runs the group again as it was (a few times);
 * - a lost connection fails every unit of the group: nothing of it committed.
 *
 * The events the units of a group append wait on their units and are stored by one statement
 * before the commit, those of the units that succeeded only (see DeferredEvents); a unit alone
 * stores its events as it appends them. Should that statement fail, the group rolls back and is
 * split in halves.
 */
export class PostgresGroupCommit extends GroupCommit {
  constructor(
    private readonly connection: PipelinedConnection,
    signal: CommitSignal,
    observe: CommitObserver,
    /** Set by the event store when it starts; until then units store their events themselves. */
    private readonly storeEvents: () => StoreEvents | undefined,
  ) {
    super(signal, observe);
  }

  protected async commit(group: Pending[]): Promise<void> {
    const queue: Next = [group];
    let conflicts = 0;
    while (queue.length > 0) {
      const units = queue.shift()!;
      const next = await this.round(units, conflicts < CONFLICT_RETRIES);
      if (next.length === 1 && next[0] === units) conflicts++;
      queue.unshift(...next);
    }
  }

  /** Runs `units` in one transaction; answers those it can and says what runs next. */
  private async round(units: Pending[], mayRetry: boolean): Promise<Next> {
    let session: PipelinedSession;
    try {
      session = await this.connection.open();
    } catch (error) {
      for (const unit of units) unit.reject(error);
      return [];
    }
    const alone = units.length === 1;
    let outcomes: Outcome[] = [];
    try {
      await session.exec('BEGIN');
      outcomes = await Promise.all(units.map((unit) => this.run(unit, session, alone)));
      const failed = outcomes.flatMap((o, i) => (o.failure ? [{ unit: units[i], ...o }] : []));
      const lost = failed.find((f) => isConnectionError(f.failure!.error));
      if (lost) throw lost.failure!.error;
      const conflict = failed.find((f) => isTransactionConflict(f.failure!.error));
      if (conflict) {
        await session.exec('ROLLBACK');
        if (mayRetry) return [units];
        throw conflict.failure!.error;
      }
      if (alone && failed.length === 1) {
        await session.exec('ROLLBACK');
        this.counted(1);
        units[0].reject(failed[0].failure!.error);
        return [];
      }
      const clean = (o: Outcome) =>
        !o.tx.wrote && !o.tx.nestedFailure && !isDatabaseError(o.failure!.error);
      if (failed.every(clean) && outcomes.every((o) => !o.tx.nestedFailure)) {
        return await this.commitKept(session, units, outcomes);
      }
      // The group cannot commit as it is: roll it back, and run its units again.
      await session.exec('ROLLBACK');
      crashPoint('group-refused');
      this.counted(units.length);
      const blamed = new Set<Pending>();
      outcomes.forEach((o, i) => {
        const own = o.failure && !followsAnotherFailure(o.failure.error);
        if (own || o.tx.nestedFailure) blamed.add(units[i]);
      });
      if (blamed.size === 0) return halves(units);
      const rest = units.filter((unit) => !blamed.has(unit));
      return [...(rest.length > 0 ? [rest] : []), ...[...blamed].map((unit) => [unit])];
    } catch (error) {
      // The connection is lost, or holds a transaction in doubt: nothing of the group committed.
      this.connection.drop();
      for (const unit of units) unit.reject(error);
      return [];
    }
  }

  /**
   * Commits the units that succeeded (the failed ones wrote nothing): answers them all, or, when
   * the database refuses the commit (a unit caught a failed statement and went on), splits.
   */
  private async commitKept(
    session: PipelinedSession,
    units: Pending[],
    outcomes: Outcome[],
  ): Promise<Next> {
    const deferred = new DeferredEvents();
    for (const { tx, failure } of outcomes) {
      if (!failure && tx.deferredEvents) deferred.entries.push(...tx.deferredEvents.entries);
    }
    if (deferred.entries.length > 0) {
      try {
        await this.storeEvents()!(new Tx(session.db, 'postgres', session, false), deferred);
      } catch (error) {
        if (isConnectionError(error)) throw error;
        await session.exec('ROLLBACK');
        crashPoint('group-refused');
        this.counted(units.length);
        return halves(units);
      }
    }
    crashPoint('tx-before-commit');
    const committed = await session.exec('COMMIT');
    this.counted(units.length);
    if (committed.command !== 'COMMIT') {
      if (units.length > 1) return halves(units);
      units[0].reject(new Error('The database rolled the unit of work back'));
      return [];
    }
    try {
      crashPoint('tx-after-commit');
      const events = outcomes.flatMap((o) => (o.failure ? [] : o.tx.appended));
      if (events.length > 0) this.signal.committed(events);
    } finally {
      units.forEach((unit, i) => {
        const { failure, value } = outcomes[i];
        if (failure) unit.reject(failure.error);
        else unit.resolve(value);
      });
    }
    return [];
  }

  private async run(unit: Pending, session: PipelinedSession, alone: boolean): Promise<Outcome> {
    // Alone, the unit has the transaction to itself: nested work may use savepoints.
    const tx = new Tx(session.db, 'postgres', session, alone);
    if (!alone && this.storeEvents()) tx.deferredEvents = new DeferredEvents();
    try {
      const value = await runIn(unit, tx);
      if (unit.context.background) crashPoint('unit-throws');
      return { tx, value };
    } catch (error) {
      return { tx, failure: { error } };
    }
  }
}

function halves(units: Pending[]): Next {
  const middle = Math.ceil(units.length / 2);
  return [units.slice(0, middle), units.slice(middle)];
}
