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
    return new Promise<O>((resolve, reject) => calls.push({ input, resolve, reject }));
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
