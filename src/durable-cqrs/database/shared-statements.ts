import { sql, type RawBuilder } from 'kysely';
import type { Statement, StatementRunner } from './statement.js';

/** PostgreSQL: `column = any($1::text[])`, the condition of a Lookup's `many` statement. */
export function anyOf(keys: readonly string[]): RawBuilder<string> {
  return sql<string>`any(${keys}::text[])`;
}

interface Call<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Calls of one statement made on one pipelined PostgreSQL connection while the event loop turns
 * (by the deliveries of a batch, the units of a group, the requests of a moment), run as ONE
 * statement at the end of the turn instead of one each (see `StatementRunner.sharedStatements`).
 *
 * A caller's earlier statements were sent before its call, and the connection runs statements in
 * the order sent, so the shared statement sees the caller's own writes. Its failure fails every
 * call it carried.
 */
class Gathered<I, O> {
  private readonly waiting = new WeakMap<
    object,
    { runner: StatementRunner; calls: Call<I, O>[] }
  >();

  constructor(
    /** Runs the calls' inputs as one statement; one output per input, in their order. */
    private readonly many: (runner: StatementRunner, inputs: I[]) => Promise<O[]>,
  ) {}

  /**
   * Queues the call; its statement leaves at the end of the turn. The caller's unit is told
   * (`track`), so it does not end (commit, or roll back) while a call of its own is still queued:
   * a call made and not awaited would otherwise leave after its unit had ended.
   */
  submit(runner: StatementRunner, shared: object, input: I): Promise<O> {
    let waiting = this.waiting.get(shared);
    if (!waiting) {
      const started = { runner, calls: [] as Call<I, O>[] };
      this.waiting.set(shared, (waiting = started));
      setImmediate(() => {
        this.waiting.delete(shared);
        void this.run(started.runner, started.calls);
      });
    }
    const calls = waiting.calls;
    const answer = new Promise<O>((resolve, reject) => calls.push({ input, resolve, reject }));
    runner.track?.(answer);
    return answer;
  }

  private async run(runner: StatementRunner, calls: Call<I, O>[]): Promise<void> {
    try {
      const outputs = await this.many(
        runner,
        calls.map((call) => call.input),
      );
      calls.forEach((call, i) => call.resolve(outputs[i]));
    } catch (error) {
      calls.forEach((call) => call.reject(error));
    }
  }
}

/**
 * A read whose calls on one pipelined connection share one statement: `many` answers for all the
 * calls' inputs at once, one output per input in their order; elsewhere each call runs `one`.
 */
export class SharedRead<I, O> {
  private readonly gathered: Gathered<I, O>;

  constructor(
    private readonly one: (runner: StatementRunner, input: I) => Promise<O>,
    many: (runner: StatementRunner, inputs: I[]) => Promise<O[]>,
  ) {
    this.gathered = new Gathered(many);
  }

  run(runner: StatementRunner, input: I): Promise<O> {
    const shared = runner.sharedStatements;
    if (!shared) return this.one(runner, input);
    return this.gathered.submit(runner, shared, input);
  }
}

/**
 * A read of one row by its key whose calls on one pipelined connection share one statement
 * (`WHERE key = any($1)`); elsewhere (SQLite, a pooled transaction) each call runs `one`. `many`
 * orders its rows by key: with `FOR UPDATE`, every shared read locks its rows in the same order.
 */
export class Lookup<R> {
  private readonly gathered: Gathered<string, R | undefined>;

  constructor(
    private readonly one: Statement<[string], R>,
    many: Statement<[string[]], R>,
    keyOf: (row: R) => string,
  ) {
    this.gathered = new Gathered(async (runner, keys) => {
      const { rows } = await many.run(runner, [...new Set(keys)]);
      const found = new Map(rows.map((row) => [keyOf(row), row]));
      const given = new Set<string>();
      return keys.map((key) => {
        const row = found.get(key);
        if (!row || !given.has(key)) {
          given.add(key);
          return row;
        }
        return { ...row }; // each caller a row of its own: one may change what it was given
      });
    });
  }

  async load(runner: StatementRunner, key: string): Promise<R | undefined> {
    const shared = runner.sharedStatements;
    if (!shared) return (await this.one.run(runner, key)).rows[0];
    return this.gathered.submit(runner, shared, key);
  }
}

/**
 * A write of one row whose calls on one pipelined connection share one statement; elsewhere each
 * call runs `one`. Both answer how many rows the call changed (0 or 1), so a write guarded by
 * the state it changes (`WHERE version = $expected`) still tells each caller whether it won.
 * `many` gets the calls' rows in order and answers the indexes of the rows it applied.
 */
export class SharedWrite<A extends readonly unknown[]> {
  private readonly gathered: Gathered<A, number>;

  constructor(
    private readonly one: Statement<A>,
    many: (runner: StatementRunner, calls: A[]) => Promise<Iterable<number>>,
  ) {
    this.gathered = new Gathered<A, number>(async (runner, calls) => {
      const applied = new Set(await many(runner, calls));
      return calls.map((_, i) => (applied.has(i) ? 1 : 0));
    });
  }

  async run(runner: StatementRunner, ...args: A): Promise<number> {
    const shared = runner.sharedStatements;
    if (!shared) return (await this.one.run(runner, ...args)).changes;
    // The statement goes out through the first caller's runner: each caller notes its write.
    runner.noteWrite?.();
    return this.gathered.submit(runner, shared, args);
  }
}

/** A column of a shared statement: its name and its PostgreSQL type (`text`, `bigint`, ...). */
export type Column = readonly [name: string, type: string];

/** `unnest($1::text[], $2::bigint[], ...)`, numbering from $`first`. */
function arrays(columns: readonly Column[], first = 1): string {
  return `unnest(${columns.map(([, type], i) => `$${first + i}::${type}[]`).join(', ')})`;
}

/** One array per column: the calls' values (`rowOf` gives a call's values in column order). */
function columnArrays<A>(calls: A[], width: number, rowOf: (args: A) => readonly unknown[]) {
  const rows = calls.map(rowOf);
  return Array.from({ length: width }, (_, i) => rows.map((row) => row[i]));
}

/**
 * PostgreSQL: the inserts of the calls as ONE statement, their rows taken from one array per column
 * in the calls' order; `key` names the unique column returned, and with `skipConflicts` a row whose
 * key exists is skipped (ON CONFLICT DO NOTHING), so of two calls with one key the first inserts.
 * Elsewhere each call runs `one`.
 */
export function sharedInsert<A extends readonly unknown[]>(options: {
  one: Statement<A>;
  table: string;
  columns: readonly Column[];
  key: string;
  skipConflicts: boolean;
  rowOf: (args: A) => readonly unknown[];
}): SharedWrite<A> {
  const { one, table, columns, key, skipConflicts, rowOf } = options;
  const names = columns.map(([name]) => name).join(', ');
  const keyAt = columns.findIndex(([name]) => name === key);
  const text = `INSERT INTO ${table} (${names})
    SELECT ${names} FROM ${arrays(columns)} WITH ORDINALITY AS v(${names}, n) ORDER BY n
    ${skipConflicts ? `ON CONFLICT (${key}) DO NOTHING` : ''}
    RETURNING ${key} AS key`;
  return new SharedWrite(one, async (runner, calls) => {
    const { rows } = await runner.runSql<{ key: string }>(
      text,
      columnArrays(calls, columns.length, rowOf),
    );
    const inserted = new Set(rows.map((row) => row.key));
    const applied: number[] = [];
    calls.forEach((call, i) => {
      const callKey = rowOf(call)[keyAt] as string;
      if (inserted.delete(callKey)) applied.push(i);
    });
    return applied;
  });
}

/**
 * PostgreSQL: the updates of the calls as ONE statement (UPDATE ... FROM arrays): each call's row
 * found by `key` and changed only where every `guards` column still holds the call's expected
 * value, so each caller learns whether its guarded write won. Of two calls on one row, one is
 * applied (the other's guard no longer holds, as if it came second). `rowOf` gives a call's
 * values: key, then `set`, then `guards`. Elsewhere each call runs `one`.
 */
export function sharedUpdate<A extends readonly unknown[]>(options: {
  one: Statement<A>;
  table: string;
  key: Column;
  set: readonly Column[];
  guards: readonly Column[];
  rowOf: (args: A) => readonly unknown[];
}): SharedWrite<A> {
  const { one, table, key, set, guards, rowOf } = options;
  const columns = [
    key,
    ...set,
    ...guards.map(([name, type]) => [`expected_${name}`, type] as const),
  ];
  const conditions = [
    `t.${key[0]} = v.${key[0]}`,
    ...guards.map(([name]) => `t.${name} = v.expected_${name}`),
  ].join(' AND ');
  const text = `UPDATE ${table} AS t
    SET ${set.map(([name]) => `${name} = v.${name}`).join(', ')}
    FROM ${arrays(columns)} WITH ORDINALITY AS v(${columns.map(([name]) => name).join(', ')}, n)
    WHERE ${conditions}
    RETURNING v.n`;
  return new SharedWrite(one, async (runner, calls) => {
    const { rows } = await runner.runSql<{ n: string }>(
      text,
      columnArrays(calls, columns.length, rowOf),
    );
    return rows.map((row) => Number(row.n) - 1);
  });
}
