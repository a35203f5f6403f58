import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { RuntimeOptions } from './runtime-options.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import type { StatementRunner } from './database/statement.js';
import { CommitSignal } from './commit-signal.js';
import type { DomainEvent } from './domain-event.js';
import {
  SqliteGroupCommit,
  type CommitObserver,
  type GroupCommit,
  type GroupCommitStats,
  type Work,
} from './group-commit.js';
import { messageContext } from './message-context.js';
import { PipelinedConnection } from './database/pipelined-connection.js';
import { PostgresGroupCommit, type StoreEvents } from './postgres-group-commit.js';
import { postgresConnection, Tx } from './tx.js';

export { Tx } from './tx.js';

/** Tells the unit running a statement of it (see Tx.noteStatement). */
const noteStatement = (text: string) => messageContext.store()?.tx?.noteStatement(text);
export type { GroupCommitStats } from './group-commit.js';

/**
 * Runs work as a unit of work: its state changes and the events they raise commit together, and
 * the consumer is told at once after the commit. Called while a unit runs, it nests in that unit.
 */
@Injectable()
export class UnitOfWork implements OnApplicationShutdown {
  /** Where requests' units commit; SQLite: deliveries' units too (requests first). */
  private readonly requests: GroupCommit;
  /** Where units of deliveries and other background work commit. */
  private readonly background: GroupCommit;
  /** PostgreSQL: the connections the groups run on. */
  private readonly pipelines: PipelinedConnection[] = [];
  /** PostgreSQL: how a group stores the events its units appended (set by the event store). */
  private storeEvents?: StoreEvents;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly signal: CommitSignal,
    config: RuntimeOptions,
    metrics: RuntimeMetrics,
  ) {
    const observe: CommitObserver = (units) => metrics.groupCommitUnits.observe(units);
    metrics.countDatabaseWith(database.counters);
    if (database.dialect === 'sqlite') {
      this.requests = new SqliteGroupCommit(database.sqlite!, database.writer, signal, observe);
      this.background = this.requests;
    } else {
      // Requests and background work group apart, each on a connection of its own: a request
      // never waits in a group behind a delivery's unit that waits for a lock of the consumer's
      // batch, and the two groups commit at the same time.
      const groupCommit = (owner: string) => {
        const pipeline = new PipelinedConnection(
          config.databaseUrl,
          database.counters,
          owner,
          noteStatement,
        );
        this.pipelines.push(pipeline);
        return new PostgresGroupCommit(pipeline, signal, observe, () => this.storeEvents);
      };
      this.requests = groupCommit("The requests' unit of work");
      this.background = groupCommit("The deliveries' unit of work");
    }
  }

  /**
   * Hears the events of every commit of this process, after it committed, once each (a unit that
   * rolls back is never heard): for what counts or watches stored events, such as metrics.
   */
  onCommitted(listener: (events: readonly DomainEvent[]) => void): void {
    this.signal.onCommitted(listener);
  }

  /**
   * PostgreSQL: the units of a group append their events into it, and `store` writes them all
   * with one statement before the group commits (EventStore.storeDeferred).
   */
  storeGroupEventsWith(store: StoreEvents): void {
    this.storeEvents = store;
  }

  onApplicationShutdown(): void {
    for (const pipeline of this.pipelines) pipeline.close();
  }

  transaction<T>(work: Work<T>): Promise<T> {
    const context = messageContext.store();
    if (context?.tx) return context.tx.nested(work);
    const writer = context?.background ? this.background : this.requests;
    return new Promise<T>((resolve, reject) =>
      writer.submit({
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
    if (this.background === this.requests) return this.requests.stats;
    const [a, b] = [this.requests.stats, this.background.stats];
    return {
      commits: a.commits + b.commits,
      units: a.units + b.units,
      waiting: a.waiting + b.waiting,
    };
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
