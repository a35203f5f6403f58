import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import type { StatementRunner } from '../database/statement.js';
import { CommitSignal } from './commit-signal.js';
import {
  SqliteGroupCommit,
  type CommitObserver,
  type GroupCommit,
  type GroupCommitStats,
  type Work,
} from './group-commit.js';
import { messageContext } from './message-context.js';
import { PipelinedConnection } from './pipelined-connection.js';
import { PostgresGroupCommit } from './postgres-group-commit.js';
import { postgresConnection, Tx } from './tx.js';

export { Tx } from './tx.js';
export type { GroupCommitStats } from './group-commit.js';

/**
 * Runs work as a unit of work: its state changes and the events they raise commit together, and
 * the consumer is told at once after the commit. Called while a unit runs, it nests in that unit.
 */
@Injectable()
export class UnitOfWork implements OnApplicationShutdown {
  private readonly writer: GroupCommit;
  /** PostgreSQL: the connection the groups of units run on. */
  private readonly pipeline?: PipelinedConnection;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    signal: CommitSignal,
    config: AppConfig,
    metrics: Metrics,
  ) {
    const observe: CommitObserver = (units) => metrics.groupCommitUnits.observe(units);
    metrics.countDatabaseWith(database.counters);
    if (database.dialect === 'sqlite') {
      this.writer = new SqliteGroupCommit(database.sqlite!, database.writer, signal, observe);
    } else {
      this.pipeline = new PipelinedConnection(
        config.databaseUrl,
        database.counters,
        "The unit of work's",
      );
      this.writer = new PostgresGroupCommit(this.pipeline, signal, observe);
    }
  }

  onApplicationShutdown(): void {
    this.pipeline?.drop();
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
