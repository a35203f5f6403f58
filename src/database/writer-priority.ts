import { AsyncLocalStorage } from 'node:async_hooks';
import {
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type TransactionSettings,
} from 'kysely';

/** Whose turn comes first at the one SQLite writer: a client waiting on a request, or not. */
export type WriterPriority = 'request' | 'background';

const current = new AsyncLocalStorage<WriterPriority>();

/**
 * The priority of the work running now: `request` inside an HTTP request, `background` for
 * deliveries, polls and timers (and anything not marked).
 */
export const writerPriority = {
  run<T>(priority: WriterPriority, work: () => T): T {
    return current.run(priority, work);
  },
  get(): WriterPriority {
    return current.getStore() ?? 'background';
  },
};

/** While background work waits, requests go first this many times in a row, then it goes once. */
const REQUESTS_PER_BACKGROUND_TURN = 4;

/**
 * A lock with two queues: requests go ahead of background work, which still gets one turn in
 * every five so that the workflow keeps moving under a steady stream of requests.
 */
export class PriorityGate {
  private held = false;
  private readonly waiting: Record<WriterPriority, Array<() => void>> = {
    request: [],
    background: [],
  };
  private requestsInARow = 0;

  lock(priority: WriterPriority): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting[priority].push(resolve));
  }

  unlock(): void {
    const { request, background } = this.waiting;
    const requestTurn =
      request.length > 0 &&
      (background.length === 0 || this.requestsInARow < REQUESTS_PER_BACKGROUND_TURN);
    const next = requestTurn ? request.shift() : background.shift();
    this.requestsInARow = requestTurn ? this.requestsInARow + 1 : 0;
    if (next) next();
    else this.held = false;
  }
}

/** Kysely's SQLite driver behind a PriorityGate: who gets the connection next is decided here. */
class PriorityDriver implements Driver {
  private readonly gate = new PriorityGate();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.gate.lock(writerPriority.get());
    try {
      return await this.inner.acquireConnection();
    } catch (error) {
      this.gate.unlock();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(connection);
    } finally {
      this.gate.unlock();
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.releaseSavepoint?.(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/**
 * SQLite has one writer connection, which the workflow's deliveries and the requests share. Under
 * load, requests queued behind every delivery's transaction; here they go first (see
 * PriorityGate), so a client waits for the writer, not for the workflow's backlog.
 */
export class PrioritySqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    return new PriorityDriver(super.createDriver());
  }
}
