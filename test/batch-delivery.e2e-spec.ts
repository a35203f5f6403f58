import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { EventStore } from '../src/durable-cqrs/event-store.js';
import { UnitOfWork } from '../src/durable-cqrs/unit-of-work.js';
import { OrderConfirmationSent } from '../src/notifications/events/order-confirmation-sent.event.js';
import { createTestApp, eventually, removeTempDatabases, type TestApp } from './create-test-app.js';

afterAll(() => removeTempDatabases());

/**
 * Counts, per stream, in a table of the test's own: each delivery reads the count and writes it
 * plus one, in its unit. A delivery that did not see the writes of the stream's earlier
 * deliveries in the same batch would read a count already read, and the total would fall short.
 * The first delivery of a stream named `fails-*` throws once, after its write.
 */
@EventsHandler(OrderConfirmationSent)
class StreamCounter implements IEventHandler<OrderConfirmationSent> {
  static seen: Array<{ stream: string; count: number }> = [];
  static failed = new Set<string>();

  constructor(private readonly uow: UnitOfWork) {}

  async handle(event: OrderConfirmationSent): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const { rows } = await sql<{
        n: number;
      }>`SELECT n FROM batch_test_counter WHERE stream_id = ${event.orderId}`.execute(tx.db);
      const count = rows.length > 0 ? Number(rows[0].n) : 0;
      await sql`INSERT INTO batch_test_counter (stream_id, n) VALUES (${event.orderId}, ${count + 1})
        ON CONFLICT (stream_id) DO UPDATE SET n = excluded.n`.execute(tx.db);
      if (event.orderId.startsWith('fails-') && !StreamCounter.failed.has(event.orderId)) {
        StreamCounter.failed.add(event.orderId);
        throw new Error(`first delivery on ${event.orderId} fails after its write`);
      }
      StreamCounter.seen.push({ stream: event.orderId, count });
    });
  }
}

// The in-process consumer's batches; with RabbitMQ each message is its own delivery.
const inProcess = !process.env.TEST_AMQP_URL;

(inProcess ? describe : describe.skip)('deliveries in batches', () => {
  let t: TestApp;
  let database: Database;

  beforeAll(async () => {
    t = await createTestApp({
      providers: [StreamCounter],
      config: { retryBaseDelayMs: 400, retryMaxAttempts: 5 },
    });
    database = t.app.get<Database>(DATABASE);
    await sql`CREATE TABLE batch_test_counter (stream_id text PRIMARY KEY, n integer NOT NULL)`.execute(
      database.writer,
    );
  });
  afterAll(() => t.close());

  /** Stores `count` events on each stream in one unit: they commit, and are read, together. */
  async function appendTogether(streams: Record<string, number>): Promise<void> {
    const store = t.app.get(EventStore);
    await t.app.get(UnitOfWork).transaction(async (tx) => {
      for (const [stream, count] of Object.entries(streams)) {
        const events = Array.from(
          { length: count },
          (_, n) => new OrderConfirmationSent(stream, `m-${n}`, 'someone'),
        );
        await store.append(tx, events, {
          streamId: stream,
          aggregateType: 'Test',
          aggregateId: stream,
        });
      }
    });
  }

  async function counts(): Promise<Record<string, number>> {
    const rows = await database.reader
      .selectFrom(sql<{ stream_id: string; n: number }>`batch_test_counter`.as('c'))
      .selectAll()
      .execute();
    return Object.fromEntries(rows.map((row) => [row.stream_id, Number(row.n)]));
  }

  it('runs a stream’s deliveries of one batch in order, each seeing the earlier ones’ writes', async () => {
    await appendTogether({ 'same-a': 4, 'same-b': 3 });
    const found = await eventually(counts, (c) => c['same-a'] === 4 && c['same-b'] === 3, {
      what: 'every delivery to be counted',
    });
    expect(found).toMatchObject({ 'same-a': 4, 'same-b': 3 });
    const seenOn = (stream: string) =>
      StreamCounter.seen.filter((s) => s.stream === stream).map((s) => s.count);
    expect(seenOn('same-a')).toEqual([0, 1, 2, 3]);
    expect(seenOn('same-b')).toEqual([0, 1, 2]);
  });

  it('parks a failing delivery and its stream’s later events alone: its neighbours commit once, at once', async () => {
    await appendTogether({ 'fails-1': 2, 'next-1': 1, 'next-2': 2, 'next-3': 1 });
    // The neighbours finish while the failed delivery waits for its retry (400 ms or more).
    const early = await eventually(
      counts,
      (c) => c['next-1'] === 1 && c['next-2'] === 2 && c['next-3'] === 1,
      { what: 'the neighbours of the failing delivery to commit' },
    );
    // The failed delivery's write was undone with it; nothing of its stream ran behind it.
    expect(early['fails-1']).toBeUndefined();
    const done = await eventually(counts, (c) => c['fails-1'] === 2, {
      what: 'the parked stream to be delivered after the retry',
    });
    // Each neighbour's effect happened once, however often its batch ran.
    expect(done).toMatchObject({ 'next-1': 1, 'next-2': 2, 'next-3': 1, 'fails-1': 2 });
    expect(StreamCounter.seen.filter((s) => s.stream === 'fails-1').map((s) => s.count)).toEqual([
      0, 1,
    ]);
    const parked = await database.reader
      .selectFrom('deliveries')
      .select('status')
      .where('stream_id', '=', 'fails-1')
      .execute();
    expect(parked).toEqual([]);
  });
});
