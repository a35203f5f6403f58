import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import { anyOf, Lookup, SharedWrite } from './shared-statements.js';
import type { Tables } from './tables.js';
import { Statement, type StatementResult, type StatementRunner } from './statement.js';

interface Row {
  id: string;
  status: string;
}

/** A PostgreSQL runner that answers from `table` and records every statement it was sent. */
function runner(table: Row[], shared?: object) {
  const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  const db = new Kysely<Tables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  let failWith: Error | undefined;
  const self: StatementRunner & { sent: typeof sent; fail(error: Error): void } = {
    dialect: 'postgres',
    db,
    sharedStatements: shared,
    sent,
    fail: (error) => (failWith = error),
    runSql<R>(sql: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
      sent.push({ sql, parameters });
      if (failWith) return Promise.reject(failWith);
      const wanted = Array.isArray(parameters[0])
        ? (parameters[0] as string[])
        : [parameters[0] as string];
      const rows = table.filter((row) => wanted.includes(row.id)) as R[];
      return Promise.resolve({ rows, changes: 0 });
    },
  };
  return self;
}

const byId = new Lookup<Row>(
  new Statement<[string], Row>(1, (db, id) =>
    db.selectFrom('dead_letters').select(['id', 'last_error as status']).where('id', '=', id),
  ),
  new Statement<[string[]], Row>(1, (db, ids) =>
    db
      .selectFrom('dead_letters')
      .select(['id', 'last_error as status'])
      .where('id', '=', anyOf(ids))
      .orderBy('id'),
  ),
  (row) => row.id,
);

const TABLE: Row[] = [
  { id: 'a', status: 'NEW' },
  { id: 'b', status: 'PAID' },
];

describe('Lookup: reads by key shared by the callers of one pipelined connection', () => {
  it('reads the keys asked for at the same moment with one statement, each caller its own row', async () => {
    const connection = runner(TABLE, {});
    const [a, b, missing, again] = await Promise.all([
      byId.load(connection, 'a'),
      byId.load(connection, 'b'),
      byId.load(connection, 'zz'),
      byId.load(connection, 'a'),
    ]);
    expect(connection.sent).toHaveLength(1);
    expect(connection.sent[0].sql).toContain('= any($1::text[])');
    expect(connection.sent[0].parameters).toEqual([['a', 'b', 'zz']]);
    expect([a, b, missing, again]).toEqual([TABLE[0], TABLE[1], undefined, TABLE[0]]);
    expect(again).not.toBe(a); // a caller may change its row without touching another's
  });

  it("tells each caller's unit of its answer still to come, so the unit cannot end before it", async () => {
    const tracked: Array<Promise<unknown>> = [];
    const connection = { ...runner(TABLE, {}), track: (p: Promise<unknown>) => tracked.push(p) };
    const loads = [byId.load(connection, 'a'), byId.load(connection, 'b')];
    expect(tracked).toHaveLength(2);
    expect(await Promise.all(tracked)).toEqual(await Promise.all(loads));
  });

  it('sends a new statement for keys asked for after the shared one left', async () => {
    const connection = runner(TABLE, {});
    expect(await byId.load(connection, 'a')).toEqual(TABLE[0]);
    expect(await byId.load(connection, 'b')).toEqual(TABLE[1]);
    expect(connection.sent.map((s) => s.parameters)).toEqual([[['a']], [['b']]]);
  });

  it('fails every caller of a shared read that failed', async () => {
    const connection = runner(TABLE, {});
    connection.fail(new Error('connection lost'));
    const loads = [byId.load(connection, 'a'), byId.load(connection, 'b')];
    for (const load of loads) await expect(load).rejects.toThrow('connection lost');
    expect(connection.sent).toHaveLength(1);
  });

  it('keeps the reads of different connections apart, and runs one statement per key where nothing is shared', async () => {
    const first = runner(TABLE, {});
    const second = runner(TABLE, {});
    const pooled = runner(TABLE);
    await Promise.all([
      byId.load(first, 'a'),
      byId.load(second, 'b'),
      byId.load(pooled, 'a'),
      byId.load(pooled, 'b'),
    ]);
    expect(first.sent.map((s) => s.parameters)).toEqual([[['a']]]);
    expect(second.sent.map((s) => s.parameters)).toEqual([[['b']]]);
    expect(pooled.sent.map((s) => s.parameters)).toEqual([['a'], ['b']]);
    expect(pooled.sent[0].sql).not.toContain('any(');
  });
});

describe('SharedWrite: writes whose calls on one pipelined connection share one statement', () => {
  const setStatus = new Statement<[string, string]>(2, (db, id, status) =>
    db.updateTable('dead_letters').set({ last_error: status }).where('id', '=', id),
  );
  /** The shared statement: applies the first call of each id, as an UPDATE ... FROM would. */
  function sharedWrite(table: Row[], sent: Array<Array<[string, string]>>) {
    return new SharedWrite(setStatus, (_runner, calls) => {
      sent.push(calls);
      const applied: number[] = [];
      const seen = new Set<string>();
      calls.forEach(([id, status], i) => {
        const row = table.find((r) => r.id === id);
        if (!row || seen.has(id)) return;
        seen.add(id);
        row.status = status;
        applied.push(i);
      });
      return Promise.resolve(applied);
    });
  }

  it('sends the calls of a moment as one statement and tells each caller whether its row changed; every caller notes its write', async () => {
    const table = TABLE.map((row) => ({ ...row }));
    const sent: Array<Array<[string, string]>> = [];
    const write = sharedWrite(table, sent);
    const shared = {};
    const callers = [1, 2, 3, 4].map(() => ({ ...runner(table, shared), wrote: false }));
    for (const caller of callers) caller.noteWrite = () => (caller.wrote = true);
    const changes = await Promise.all([
      write.run(callers[0], 'a', 'PAID'),
      write.run(callers[1], 'missing', 'PAID'),
      write.run(callers[2], 'b', 'SHIPPED'),
      write.run(callers[3], 'a', 'CANCELLED'),
    ]);
    expect(sent).toEqual([
      [
        ['a', 'PAID'],
        ['missing', 'PAID'],
        ['b', 'SHIPPED'],
        ['a', 'CANCELLED'],
      ],
    ]);
    expect(changes).toEqual([1, 0, 1, 0]);
    expect(table.map((row) => row.status)).toEqual(['PAID', 'SHIPPED']);
    expect(callers.map((caller) => caller.wrote)).toEqual([true, true, true, true]);
  });

  it('runs its own statement per call where nothing is shared', async () => {
    const sent: Array<Array<[string, string]>> = [];
    const pooled = runner(TABLE);
    const write = sharedWrite(TABLE, sent);
    await write.run(pooled, 'a', 'PAID');
    expect(sent).toEqual([]);
    expect(pooled.sent).toHaveLength(1);
    expect(pooled.sent[0].sql).toMatch(
      /^update "dead_letters" set "last_error" = \$1 where "id" = \$2$/,
    );
  });
});
