import { Inject, Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { DATABASE } from '../database/database.tokens.js';
import type { Database, SqlDialectName } from '../database/database.js';
import type { DB } from '../database/schema.js';
import type { DomainEvent } from './domain-event.js';
import { crashPoint } from '../common/crash-points.js';
import { CommitSignal } from './commit-signal.js';

/** One open transaction, and the events appended to the log inside it. */
export class Tx {
  readonly appended: DomainEvent[] = [];
  constructor(
    readonly db: Transaction<DB>,
    readonly dialect: SqlDialectName,
  ) {}

  /** Row locks where the database has them (PostgreSQL); SQLite has one writer anyway. */
  get locksRows(): boolean {
    return this.dialect === 'postgres';
  }
}

/**
 * Runs work in one database transaction. State changes and the events they raise are written
 * through the same Tx, so they commit together; once committed, the dispatcher is told at once.
 */
@Injectable()
export class UnitOfWork {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly signal: CommitSignal,
  ) {}

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    let tx: Tx | undefined;
    const result = await this.database.db.transaction().execute(async (trx) => {
      tx = new Tx(trx, this.database.dialect);
      const value = await work(tx);
      crashPoint('tx-before-commit');
      return value;
    });
    crashPoint('tx-after-commit');
    if (tx && tx.appended.length > 0) this.signal.committed(tx.appended);
    return result;
  }
}
