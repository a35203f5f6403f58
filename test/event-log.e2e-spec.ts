import { CompiledQuery, Migrator, sql } from 'kysely';
import { migrateDatabase, openDatabase, type Database } from '../src/durable-cqrs/index.js';
import { serviceMigrations } from '../src/database/migrations.js';
import { loadConfig } from '../src/config/app-config.js';
import { CheckpointMoved, Checkpoints, IN_PROCESS } from '../src/durable-cqrs/checkpoints.js';
import { CommitSignal } from '../src/durable-cqrs/commit-signal.js';
import type { DomainEvent } from '../src/durable-cqrs/domain-event.js';
import { EventLogLag } from '../src/durable-cqrs/event-log-lag.js';
import { EventStore } from '../src/durable-cqrs/event-store.js';
import { DeferredEvents } from '../src/durable-cqrs/tx.js';
import { UnitOfWork } from '../src/durable-cqrs/unit-of-work.js';
import { RuntimeMetrics } from '../src/durable-cqrs/runtime-metrics.js';
import { OrderConfirmationSent } from '../src/notifications/events/order-confirmation-sent.event.js';
import { eventually, removeTempDatabases, tempDatabaseUrl } from './create-test-app.js';

afterAll(() => removeTempDatabases());

/** Applies the migrations that come before `name`: the schema an earlier release left. */
async function migrateBefore(database: Database, name: string): Promise<void> {
  const before = Object.fromEntries(
    Object.entries(serviceMigrations(database.dialect)).filter(([migration]) => migration < name),
  );
  const { error } = await new Migrator({
    db: database.writer,
    provider: { getMigrations: () => Promise.resolve(before) },
  }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

/** Migrations applied to a database that already holds data, on whichever database the suite runs on. */
describe('migration 005: delivered and relayed in place of dispatched', () => {
  let database: Database;

  /** An event row as the schema before 005 stored it. */
  async function insertOldRow(eventId: string, dispatched: number): Promise<void> {
    await sql`
      INSERT INTO event_log (event_id, type, stream_id, aggregate_type, aggregate_id, payload,
                             correlation_id, occurred_at, schema_version, dispatched)
      VALUES (${eventId}, 'OrderCreated', 'stream-1', 'Order', 'stream-1', '{}', 'c-1',
              '2025-01-01T00:00:00.000Z', 1, ${dispatched})`.execute(database.writer);
  }

  async function flags(eventId: string) {
    const row = await database.reader
      .selectFrom('event_log')
      .select(['delivered', 'relayed'])
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
    return { delivered: Number(row.delivered), relayed: Number(row.relayed) };
  }

  beforeAll(async () => {
    database = openDatabase({ url: await tempDatabaseUrl() });
    await migrateBefore(database, '005');
    await insertOldRow('old-dispatched', 1);
    await insertOldRow('old-waiting', 0);
    await migrateDatabase(database, serviceMigrations);
  });

  afterAll(async () => {
    await database.close();
  });

  it('keeps what existing rows meant: a dispatched event needs neither delivery nor relay', async () => {
    expect(await flags('old-dispatched')).toEqual({ delivered: 1, relayed: 1 });
    expect(await flags('old-waiting')).toEqual({ delivered: 0, relayed: 0 });
  });

  it('stores a new event as neither delivered nor relayed', async () => {
    await database.writer
      .insertInto('event_log')
      .values({
        event_id: 'new',
        type: 'OrderCreated',
        stream_id: 'stream-2',
        aggregate_type: 'Order',
        aggregate_id: 'stream-2',
        aggregate_version: null,
        payload: '{}',
        correlation_id: 'c-2',
        causation_id: null,
        occurred_at: '2025-01-01T00:00:01.000Z',
        schema_version: 1,
      })
      .execute();
    expect(await flags('new')).toEqual({ delivered: 0, relayed: 0 });
  });

  // 005 gave each fact a partial index; 011 dropped the one of undelivered events (the consumer
  // keeps a checkpoint since 010 and reads by position): the relay's stays.
  it('keeps the partial index of unrelayed events, which a query with a literal 0 uses, and no other', async () => {
    if (database.dialect === 'postgres') {
      const { rows } = await sql<{ indexname: string; indexdef: string }>`
        SELECT indexname, indexdef FROM pg_indexes
        WHERE tablename = 'event_log' AND indexname LIKE 'event_log_un%' ORDER BY indexname
      `.execute(database.reader);
      expect(rows.map((row) => row.indexname)).toEqual(['event_log_unrelayed_idx']);
      expect(rows[0].indexdef).toMatch(/WHERE \(relayed = 0\)/);
      return;
    }
    const { rows: indexes } = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'event_log_un%'
    `.execute(database.reader);
    expect(indexes.map((row) => row.name)).toEqual(['event_log_unrelayed_idx']);
    for (const [column, index] of [['relayed', 'event_log_unrelayed_idx']] as const) {
      const query = database.reader
        .selectFrom('event_log')
        .selectAll()
        .where(column, '=', sql.lit(0))
        .orderBy('seq')
        .limit(10)
        .compile();
      const { rows } = await database.reader.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]),
      );
      expect(rows.map((row) => row.detail).join('; ')).toContain(index);
    }
  });
});

/** Migration 010 on a database that the per-delivery dispatcher left half delivered. */
describe('migration 010: a checkpoint in place of a row per delivery', () => {
  let database: Database;

  async function insertEvent(eventId: string, delivered: number): Promise<number> {
    await sql`
      INSERT INTO event_log (event_id, type, stream_id, aggregate_type, aggregate_id, payload,
                             correlation_id, occurred_at, schema_version, delivered, relayed)
      VALUES (${eventId}, 'OrderCreated', 'stream-1', 'Order', 'stream-1', '{}', 'c-1',
              '2025-01-01T00:00:00.000Z', 1, ${delivered}, 0)`.execute(database.writer);
    const row = await database.reader
      .selectFrom('event_log')
      .select('seq')
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  }

  async function insertDelivery(eventId: string, seq: number, status: 'DONE' | 'RETRY') {
    await database.writer
      .insertInto('deliveries')
      .values({
        subscriber: 'Someone',
        event_id: eventId,
        seq,
        stream_id: 'stream-1',
        status,
        attempts: status === 'RETRY' ? 2 : 0,
        next_attempt_at: null,
        last_error: null,
        updated_at: '2025-01-01T00:00:00.000Z',
      })
      .execute();
  }

  let seqs: number[];

  beforeAll(async () => {
    database = openDatabase({ url: await tempDatabaseUrl() });
    await migrateBefore(database, '010');
    // Delivered; waiting with one subscriber done; waiting with one subscriber retrying.
    seqs = [
      await insertEvent('delivered', 1),
      await insertEvent('half-done', 0),
      await insertEvent('retrying', 0),
    ];
    await insertDelivery('delivered', seqs[0], 'DONE');
    await insertDelivery('half-done', seqs[1], 'DONE');
    await insertDelivery('retrying', seqs[2], 'RETRY');
    await migrateDatabase(database, serviceMigrations);
  });

  afterAll(async () => {
    await database.close();
  });

  it('starts the consumer before the oldest event not delivered, and keeps what it still needs', async () => {
    const checkpoint = await new Checkpoints(database).read(IN_PROCESS);
    expect(checkpoint).toEqual({ txId: 0, seq: seqs[1] - 1, legacySeq: seqs[2] });
    const rows = await database.reader
      .selectFrom('deliveries')
      .select(['event_id', 'status'])
      .orderBy('seq')
      .execute();
    // A delivered event's rows guard nothing any more; the others' say what is done or parked.
    expect(rows).toEqual([
      { event_id: 'half-done', status: 'DONE' },
      { event_id: 'retrying', status: 'RETRY' },
    ]);
  });
});

/** The in-process checkpoint and the relay, on a database of their own. */
describe('the checkpoint and the relay', () => {
  let database: Database;
  let uow: UnitOfWork;
  let store: EventStore;
  let lag: EventLogLag;
  let checkpoints: Checkpoints;

  beforeAll(async () => {
    const url = await tempDatabaseUrl();
    database = openDatabase({ url });
    await migrateDatabase(database, serviceMigrations);
    const config = loadConfig({ DATABASE_URL: url });
    uow = new UnitOfWork(database, new CommitSignal(), config, new RuntimeMetrics());
    store = new EventStore(database, uow, config);
    lag = new EventLogLag(database, config);
    checkpoints = new Checkpoints(database);
  });

  afterAll(async () => {
    uow.onApplicationShutdown();
    await database.close();
  });

  async function append(streamId: string, count: number): Promise<DomainEvent[]> {
    const events = Array.from(
      { length: count },
      (_, n) => new OrderConfirmationSent(streamId, `n-${n}`, 'someone'),
    );
    await uow.transaction((tx) =>
      store.append(tx, events, { streamId, aggregateType: 'Test', aggregateId: streamId }),
    );
    return events;
  }

  it('reads the events after a position in log order, and the relay leaves out those behind the checkpoint', async () => {
    const [delivered, relayed] = await append('facts', 2);
    const start = await checkpoints.read(IN_PROCESS);
    // On PostgreSQL the read stops below the oldest transaction still running in the whole
    // server (any database): committed events show once those older transactions have ended.
    const all = await eventually(
      () => store.readAfter(start, 1000),
      (read) => read.length >= 2,
      { what: 'the two events after the checkpoint' },
    );
    expect(all.map((s) => s.event.meta.eventId)).toEqual([
      delivered.meta.eventId,
      relayed.meta.eventId,
    ]);
    // Moved as a batch moves it, in a unit, from where it was.
    await uow.transaction((tx) => checkpoints.move(tx, IN_PROCESS, start, all[0].position));
    const after = await checkpoints.read(IN_PROCESS);
    expect(after.seq).toBe(delivered.meta.seq);
    expect((await store.readAfter(after, 1000)).map((s) => s.event.meta.eventId)).toEqual([
      relayed.meta.eventId,
    ]);
    // A second move from the old position finds the checkpoint gone from there.
    await expect(
      uow.transaction((tx) => checkpoints.move(tx, IN_PROCESS, start, all[1].position)),
    ).rejects.toBeInstanceOf(CheckpointMoved);

    const published: string[] = [];
    while (
      (await store.relay(100, (events) => {
        published.push(...events.map((e) => e.meta.eventId));
        return Promise.resolve();
      })) > 0
    );
    expect(published).toContain(relayed.meta.eventId);
    // Delivered in-process already: every subscriber has it, so the broker does not get it.
    expect(published).not.toContain(delivered.meta.eventId);
    expect(await lag.read()).toMatchObject({ events: 1 });
  });

  it('leaves a batch unrelayed when publishing it fails, and relays it on the next step', async () => {
    const events = await append('flaky-broker', 3);
    const failed = store.relay(100, () => Promise.reject(new Error('no confirm')));
    await expect(failed).rejects.toThrow('no confirm');
    const published: string[] = [];
    await store.relay(100, (batch) => {
      published.push(...batch.map((e) => e.meta.eventId));
      return Promise.resolve();
    });
    expect(published).toEqual(events.map((e) => e.meta.eventId));
    expect(await store.relay(100, () => Promise.resolve())).toBe(0);
  });

  // The deliveries of a PostgreSQL batch keep their events until the batch ends (DeferredEvents).
  if (process.env.TEST_DATABASE_URL) {
    it('stores the events a batch deferred in one statement, in the order they were appended', async () => {
      const raise = (streamId: string, n: number) =>
        new OrderConfirmationSent(streamId, `n-${n}`, 'someone');
      const [a1, a2, b1, a3] = [
        raise('deferred-a', 1),
        raise('deferred-a', 2),
        raise('deferred-b', 1),
        raise('deferred-a', 3),
      ];
      const target = (streamId: string) => ({
        streamId,
        aggregateType: 'Test',
        aggregateId: streamId,
      });
      const statementsBefore = database.counters.statements;
      await uow.transaction(async (tx) => {
        tx.deferredEvents = new DeferredEvents();
        await store.append(tx, [a1, a2], target('deferred-a'));
        await store.append(tx, [b1], target('deferred-b'));
        await store.append(tx, [a3], target('deferred-a'));
        // Nothing stored yet: the events have no position.
        expect(() => a1.meta).toThrow();
        await store.storeDeferred(tx, tx.deferredEvents);
      });
      // BEGIN, the one insert, COMMIT.
      expect(database.counters.statements - statementsBefore).toBe(3);
      const seqs = [a1, a2, b1, a3].map((event) => event.meta.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect((await store.readStream('deferred-a')).map((e) => e.meta.eventId)).toEqual(
        [a1, a2, a3].map((e) => e.meta.eventId),
      );
      expect((await store.readStream('deferred-b')).map((e) => e.meta.seq)).toEqual([b1.meta.seq]);
    });
  }
});
