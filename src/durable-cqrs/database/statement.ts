import type { Compilable, Kysely } from 'kysely';
import type { SqlDialectName } from './database.js';
import type { Tables } from './tables.js';

/** What a statement returns: its rows (a SELECT or RETURNING) and how many rows it changed. */
export interface StatementResult<R> {
  rows: R[];
  changes: number;
}

/** Runs compiled SQL on the connection of an open unit of work. */
export interface StatementRunner {
  readonly dialect: SqlDialectName;
  /** A query builder of that dialect, to compile a statement the first time it runs. */
  readonly db: Kysely<Tables>;
  runSql<R>(sql: string, parameters: readonly unknown[]): Promise<StatementResult<R>>;
  /**
   * Set when the statements go to a pipelined connection (PostgreSQL) that callers use at the same
   * time: runners with the same value may share one statement (see Lookup, SharedWrite).
   */
  readonly sharedStatements?: object;
  /** Told that a write of the caller goes out in a statement shared with others (SharedWrite). */
  noteWrite?(): void;
  /** Told of a shared statement's answer still to come: the caller's unit waits for it. */
  track?(pending: Promise<unknown>): void;
}

interface Compiled {
  sql: string;
  /** For each parameter of the SQL: the index of the argument it takes, or a fixed value. */
  slots: Array<number | { value: unknown }>;
}

const PLACEHOLDER = '\u0000arg:';

/**
 * A statement of the hot path, built with Kysely once per dialect and then run as plain SQL with
 * new arguments: no query building or compiling per call and, on SQLite, no async driver between
 * the code and the prepared better-sqlite3 statement. The builder receives placeholders for its
 * arguments; where they land among the compiled parameters tells how to fill them in later.
 */
export class Statement<A extends readonly unknown[], R = unknown> {
  private readonly compiled = new Map<SqlDialectName, Compiled>();

  constructor(
    private readonly arity: A['length'],
    private readonly build: (db: Kysely<Tables>, ...args: A) => Compilable<R>,
  ) {}

  run(runner: StatementRunner, ...args: A): Promise<StatementResult<R>> {
    const { sql, slots } = this.compile(runner);
    const parameters = slots.map((slot) => (typeof slot === 'number' ? args[slot] : slot.value));
    return runner.runSql<R>(sql, parameters);
  }

  private compile(runner: StatementRunner): Compiled {
    let compiled = this.compiled.get(runner.dialect);
    if (compiled) return compiled;
    const placeholders = Array.from({ length: this.arity }, (_, i) => `${PLACEHOLDER}${i}`);
    const query = this.build(runner.db, ...(placeholders as unknown as A)).compile();
    const seen = new Set<number>();
    const slots = query.parameters.map((parameter) => {
      if (typeof parameter === 'string' && parameter.startsWith(PLACEHOLDER)) {
        const index = Number(parameter.slice(PLACEHOLDER.length));
        seen.add(index);
        return index;
      }
      return { value: parameter };
    });
    if (seen.size !== this.arity) {
      throw new Error(`A statement uses ${seen.size} of its ${this.arity} arguments: ${query.sql}`);
    }
    compiled = { sql: query.sql, slots };
    this.compiled.set(runner.dialect, compiled);
    return compiled;
  }
}
