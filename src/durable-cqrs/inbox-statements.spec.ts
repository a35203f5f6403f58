import { Statement, type StatementResult, type StatementRunner } from './database/statement.js';
import { sharedDone, type OutcomeArgs } from './inbox-statements.js';

describe('sharedDone: the DONE rows of a group in one upsert', () => {
  const one = new Statement<OutcomeArgs>(9, (db, subscriber, eventId) =>
    db
      .selectFrom('deliveries')
      .selectAll()
      .where('subscriber', '=', subscriber)
      .where('event_id', '=', eventId),
  );
  const done = (subscriber: string, eventId: string): OutcomeArgs => [
    subscriber,
    eventId,
    1,
    'stream-1',
    'DONE',
    0,
    null,
    null,
    '2026-01-01T00:00:00.000Z',
  ];

  it('sends two calls for one row in successive statements, and tells each caller whether its row was written', async () => {
    /** The inbox as the database holds it: a row becomes DONE once, and then never changes. */
    const final = new Set<string>();
    const sent: unknown[][][] = [];
    const runner: StatementRunner = {
      dialect: 'postgres',
      db: undefined as never,
      sharedStatements: {},
      runSql<R>(_sql: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
        const [subscribers, events] = parameters as string[][];
        sent.push([subscribers, events]);
        expect(new Set(subscribers.map((s, i) => `${s}/${events[i]}`)).size).toBe(
          subscribers.length,
        ); // an upsert may not touch a row twice
        const rows = subscribers.flatMap((subscriber, i) => {
          const key = `${subscriber}/${events[i]}`;
          if (final.has(key)) return [];
          final.add(key);
          return [{ subscriber, event_id: events[i] }];
        });
        return Promise.resolve({ rows: rows as R[], changes: rows.length });
      },
    };
    const write = sharedDone(one);
    const changes = await Promise.all([
      write.run(runner, ...done('Mailer', 'e-1')),
      write.run(runner, ...done('Mailer', 'e-2')),
      write.run(runner, ...done('Mailer', 'e-1')),
      write.run(runner, ...done('Auditor', 'e-1')),
    ]);
    expect(changes).toEqual([1, 1, 0, 1]);
    expect(sent).toEqual([
      [
        ['Mailer', 'Mailer', 'Auditor'],
        ['e-1', 'e-2', 'e-1'],
      ],
      [['Mailer'], ['e-1']],
    ]);
  });
});
