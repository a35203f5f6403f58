import type pg from 'pg';

/**
 * Statements this process sent to the database, and the commits among them (write transactions
 * ended by COMMIT; a statement outside a transaction commits alone and counts as a statement only).
 * Read by the metrics (`db_statements_total`, `db_commits_total`) and the benchmark.
 */
export interface DatabaseCounters {
  statements: number;
  commits: number;
}

/** Counts one statement sent; a COMMIT counts as a commit too. */
export function countStatement(counters: DatabaseCounters, text: string): void {
  counters.statements++;
  if (text.length <= 8 && /^commit/i.test(text)) counters.commits++;
}

/** Counts every query the client sends (see DatabaseCounters). */
export function countQueries(client: pg.Client | pg.PoolClient, counters: DatabaseCounters): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  Object.defineProperty(client, 'query', {
    value: (...args: unknown[]) => {
      const config = args[0] as string | { text?: string } | undefined;
      countStatement(counters, typeof config === 'string' ? config : (config?.text ?? ''));
      return query(...args);
    },
  });
}
