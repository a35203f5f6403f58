import { AggregateRoot, EventPublisher } from '@nestjs/cqrs';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { CommitSignal } from '../src/durable-cqrs/commit-signal.js';
import { messageContext } from '../src/durable-cqrs/message-context.js';
import { UnitOfWork, type Tx } from '../src/durable-cqrs/unit-of-work.js';
import { RuntimeMetrics } from '../src/durable-cqrs/runtime-metrics.js';
import { OrderConfirmationSent } from '../src/notifications/events/order-confirmation-sent.event.js';
import { EventStore } from '../src/durable-cqrs/event-store.js';
import { newId } from '../src/durable-cqrs/ids.js';
import { CURRENCY } from '../src/common/money.js';
import { Order } from '../src/orders/domain/order.aggregate.js';
import { OrderRepository } from '../src/orders/infrastructure/order.repository.js';
import { StockRepository } from '../src/inventory/infrastructure/stock.repository.js';
import { CatalogRepository } from '../src/inventory/infrastructure/catalog.repository.js';
import { PaymentRepository } from '../src/payments/infrastructure/payment.repository.js';
import { createTestApp, eventually, removeTempDatabases, type TestApp } from './create-test-app.js';

afterAll(() => removeTempDatabases());

/** An aggregate written the textbook way: apply() events, then commit() them through the bus. */
class Notice extends AggregateRoot {
  send(streamId: string): void {
    this.apply(new OrderConfirmationSent(streamId, 'n-1', 'someone'));
  }
}

/** The units of work themselves, on whichever database the suite runs on. */
describe('units of work', () => {
  let t: TestApp;
  let uow: UnitOfWork;
  let database: Database;
  const sqlite = !process.env.TEST_DATABASE_URL;

  beforeAll(async () => {
    t = await createTestApp();
    uow = t.app.get(UnitOfWork);
    database = t.app.get<Database>(DATABASE);
  });
  afterAll(() => t.close());

  /**
   * The sizes (units carried) of the commits made while `work` runs, in order. Deliveries of
   * earlier tests may commit meanwhile too: assertions look for this test's commits among them.
   */
  async function commitSizes(work: () => Promise<unknown>): Promise<number[]> {
    const recording = recordCommits();
    try {
      await work();
      return recording.sizes;
    } finally {
      recording.stop();
    }
  }

  /** Starts recording the sizes of the commits made from now on (see commitSizes). */
  function recordCommits(): { sizes: number[]; stop: () => void } {
    const histogram = t.app.get(RuntimeMetrics).groupCommitUnits;
    // prom-client sets `observe` on the instance: stop puts that property back as it was.
    const saved = Object.getOwnPropertyDescriptor(histogram, 'observe');
    const observe = histogram.observe.bind(histogram) as (...args: unknown[]) => void;
    const sizes: number[] = [];
    histogram.observe = ((...args: unknown[]) => {
      sizes.push(Number(args[args.length - 1]));
      observe(...args);
    }) as typeof histogram.observe;
    const stop = () => {
      if (saved) Object.defineProperty(histogram, 'observe', saved);
      else Reflect.deleteProperty(histogram, 'observe');
    };
    return { sizes, stop };
  }

  /** Whether `expected` appears in `sizes` in this order (other commits between them allowed). */
  function inOrder(sizes: number[], expected: number[]): boolean {
    let next = 0;
    for (const size of sizes) if (size === expected[next]) next++;
    return next === expected.length;
  }

  /** A row written by a unit: an idempotency key nobody else uses. */
  function writeKey(tx: Tx, key: string) {
    const now = new Date().toISOString();
    return tx.db
      .insertInto('idempotency_keys')
      .values({
        principal: 'anonymous',
        key,
        request_hash: 'test',
        state: 'DONE',
        response_status: 200,
        response_body: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async function storedKeys(prefix: string): Promise<string[]> {
    const rows = await database.reader
      .selectFrom('idempotency_keys')
      .select('key')
      .where('key', 'like', `${prefix}%`)
      .orderBy('key')
      .execute();
    return rows.map((row) => row.key);
  }

  it('rolls back a failing unit alone: its batch neighbours commit', async () => {
    let outcomes: PromiseSettledResult<number>[] = [];
    const sizes = await commitSizes(async () => {
      outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          uow.transaction(async (tx) => {
            await writeKey(tx, `batch-a-${i}`);
            if (i === 4) throw new Error('unit 4 fails after its write');
            return i;
          }),
        ),
      );
    });
    expect(outcomes.map((o) => o.status)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i === 4 ? 'rejected' : 'fulfilled')),
    );
    expect(await storedKeys('batch-a-')).toEqual(
      Array.from({ length: 10 }, (_, i) => `batch-a-${i}`).filter((k) => k !== 'batch-a-4'),
    );
    // Submitted together, the ten units share one transaction. SQLite undoes unit 4 in its
    // savepoint: one commit. PostgreSQL has no savepoint per unit: the group rolls back, the nine
    // commit together and unit 4 runs again alone (three transactions).
    // (On SQLite a delivery of an earlier test may share the turn: at least ten.)
    if (sqlite) expect(Math.max(0, ...sizes)).toBeGreaterThanOrEqual(10);
    else expect(inOrder(sizes, [10, 9, 1])).toBe(true);
  });

  it('stores the events of an aggregate saved by a unit that ran again', async () => {
    // On PostgreSQL the failing neighbour rolls the group back and the saves run a second time:
    // the aggregates built outside their units must still have their events to store.
    const orders = t.app.get(OrderRepository);
    const store = t.app.get(EventStore);
    const placed = Array.from({ length: 4 }, () =>
      Order.place(
        {
          id: newId(),
          customerId: 'rerun',
          customerEmail: null,
          items: [{ productId: 'product-1', quantity: 1 }],
          currency: CURRENCY,
        },
        new Date().toISOString(),
      ),
    );
    const outcomes = await Promise.allSettled([
      ...placed.map((order) => orders.add(order)),
      uow.transaction(async (tx) => {
        await writeKey(tx, 'rerun-neighbour');
        throw new Error('the neighbour fails after its write');
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([...Array(4).fill('fulfilled'), 'rejected']);
    for (const order of placed) {
      // Each order's workflow runs to its notification (so that it is over before the next test).
      const types = await eventually(
        async () => (await store.readStream(order.id)).map((event) => event.meta.type),
        (stored) =>
          stored.some(
            (type) => type.endsWith('NotificationSent') || type.endsWith('ConfirmationSent'),
          ),
        { what: `the notification of order ${order.id}` },
      );
      expect(types[0]).toBe('OrderCreated');
      expect(types.filter((type) => type === 'OrderCreated')).toHaveLength(1);
    }
  });

  it('fails a unit that throws before writing alone, in the same commit as its neighbours', async () => {
    let runs = 0;
    let outcomes: PromiseSettledResult<void>[] = [];
    const sizes = await commitSizes(async () => {
      outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          uow.transaction(async (tx) => {
            runs++;
            if (i === 2) {
              const { rows } = await tx.runSql('SELECT 1 AS one', []);
              if (rows.length === 1) throw new Error('unit 2 refuses before writing');
            }
            await writeKey(tx, `clean-${i}`);
          }),
        ),
      );
    });
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(await storedKeys('clean-')).toEqual([
      'clean-0',
      'clean-1',
      'clean-3',
      'clean-4',
      'clean-5',
    ]);
    // Each unit ran once (no group rolled back), and the six shared one commit (on SQLite a
    // delivery of an earlier test may share it too).
    expect(runs).toBe(6);
    expect(Math.max(0, ...sizes)).toBeGreaterThanOrEqual(6);
  });

  it('answers a statement the database refuses to its unit alone: its neighbours commit once', async () => {
    await uow.transaction((tx) => writeKey(tx, 'refused-taken'));
    const attempts = new Map<number, number>();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        uow.transaction(async (tx) => {
          attempts.set(i, (attempts.get(i) ?? 0) + 1);
          await writeKey(tx, `refused-${i}`);
          // A unique key taken already: the database refuses the statement.
          if (i === 5) await writeKey(tx, 'refused-taken');
        }),
      ),
    );
    const refused = outcomes[5];
    expect(refused.status).toBe('rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(7);
    expect(await storedKeys('refused-')).toEqual([
      'refused-0',
      'refused-1',
      'refused-2',
      'refused-3',
      'refused-4',
      'refused-6',
      'refused-7',
      'refused-taken',
    ]);
    if (!sqlite) {
      // The unique violation itself reaches the caller, not the abort it caused in its neighbours.
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      // Unit 5 ran in the group and again alone; the others ran twice at most.
      expect(attempts.get(5)).toBe(2);
      expect(Math.max(...attempts.values())).toBe(2);
    }
  });

  it('undoes the writes of a unit that swallowed a refused statement, and commits its neighbours', async () => {
    await uow.transaction((tx) => writeKey(tx, 'swallow-taken'));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        uow.transaction(async (tx) => {
          await writeKey(tx, `swallow-${i}`);
          // On PostgreSQL the failed statement aborts the transaction, whatever the code does.
          if (i === 3) await writeKey(tx, 'swallow-taken').catch(() => undefined);
        }),
      ),
    );
    const keys = await storedKeys('swallow-');
    expect(keys).toEqual(
      expect.arrayContaining(['swallow-0', 'swallow-1', 'swallow-2', 'swallow-4', 'swallow-5']),
    );
    if (sqlite) {
      // SQLite: the failed statement changed nothing and the unit went on.
      expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('fulfilled'));
      expect(keys).toContain('swallow-3');
    } else {
      // PostgreSQL refuses the commit of such a unit: split from its neighbours, it fails alone.
      expect(outcomes[3].status).toBe('rejected');
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
      expect(keys).not.toContain('swallow-3');
    }
  });

  it('runs a group again as it was when the database reports a deadlock with another transaction', async () => {
    // A deadlock or serialization failure (40P01, 40001) is about what ran beside the group, not
    // about one of its units: on PostgreSQL every unit runs again, and commits once.
    const runs = new Map<number, number>();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        uow.transaction(async (tx) => {
          const run = (runs.get(i) ?? 0) + 1;
          runs.set(i, run);
          await writeKey(tx, `conflict-${i}`);
          if (i === 1 && run === 1) {
            throw Object.assign(new Error('deadlock detected (simulated)'), { code: '40P01' });
          }
        }),
      ),
    );
    if (sqlite) {
      // SQLite has no such error: the unit that threw it fails alone, like any other.
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      return;
    }
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('fulfilled'));
    expect([...runs.values()]).toEqual(Array(5).fill(2));
    expect(await storedKeys('conflict-')).toEqual(
      Array.from({ length: 5 }, (_, i) => `conflict-${i}`),
    );
  });

  it('answers a caller only once its unit is visible to other connections', async () => {
    const seen = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        uow
          .transaction((tx) => writeKey(tx, `visible-${i}`))
          // The reader is another connection: it sees only what has committed.
          .then(() => storedKeys(`visible-${i}`)),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 5 }, (_, i) => [`visible-${i}`]));
  });

  it('nests a transaction opened inside a unit: its failure undoes only its own writes', async () => {
    // Beside neighbours sharing its transaction (PostgreSQL: no savepoint there, so the unit runs
    // again alone, where it has one).
    const neighbours = Array.from({ length: 3 }, (_, i) =>
      uow.transaction((tx) => writeKey(tx, `nested-neighbour-${i}`)),
    );
    await uow.transaction(async (tx) => {
      await writeKey(tx, 'nested-outer');
      await expect(
        uow.transaction(async (inner) => {
          expect(inner).toBe(tx);
          await writeKey(inner, 'nested-inner');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await uow.transaction((inner) => writeKey(inner, 'nested-second'));
    });
    await Promise.all(neighbours);
    expect(await storedKeys('nested-')).toEqual([
      'nested-neighbour-0',
      'nested-neighbour-1',
      'nested-neighbour-2',
      'nested-outer',
      'nested-second',
    ]);
  });

  // An event no subscriber takes, so nothing else happens.
  it('hands the dispatcher the events of committed units only', async () => {
    const signalled: string[] = [];
    t.app.get(CommitSignal).onCommitted((events) => {
      for (const event of events) {
        if (event instanceof OrderConfirmationSent && event.orderId.startsWith('signal-')) {
          signalled.push(event.orderId);
        }
      }
    });
    const store = t.app.get(EventStore);
    const append = (orderId: string, fail: boolean) =>
      uow.transaction(async (tx) => {
        await store.append(tx, [new OrderConfirmationSent(orderId, 'n-1', 'someone')], {
          streamId: orderId,
          aggregateType: 'Test',
          aggregateId: orderId,
        });
        if (fail) throw new Error('rolled back');
      });
    await Promise.allSettled([
      append('signal-1', false),
      append('signal-2', true),
      append('signal-3', false),
    ]);
    expect(signalled.sort()).toEqual(['signal-1', 'signal-3']);
    const stored = await database.reader
      .selectFrom('event_log')
      .select('stream_id')
      .where('stream_id', 'like', 'signal-%')
      .orderBy('stream_id')
      .execute();
    expect(stored.map((row) => row.stream_id)).toEqual(['signal-1', 'signal-3']);
  });

  if (!sqlite) {
    it('stores the events of a group of units with one statement before its commit, in the order appended', async () => {
      const store = t.app.get(EventStore);
      const events = Array.from(
        { length: 10 },
        (_, i) => new OrderConfirmationSent(`grouped-${i}`, `n-${i}`, 'someone'),
      );
      // What each store of deferred events carried (deliveries of earlier tests may store theirs
      // meanwhile: only this test's streams are looked at).
      const stored: string[][] = [];
      const storeDeferred = store.storeDeferred.bind(store);
      store.storeDeferred = (tx, deferred) => {
        stored.push(deferred.entries.map(({ row }) => String(row.stream_id)));
        return storeDeferred(tx, deferred);
      };
      const sizes = await commitSizes(() =>
        Promise.all(
          events.map((event, i) =>
            uow.transaction(async (tx) => {
              await store.append(tx, [event], {
                streamId: `grouped-${i}`,
                aggregateType: 'Test',
                aggregateId: `grouped-${i}`,
              });
              // Appended, not stored yet: the event gets its position with the group.
              expect(() => event.meta).toThrow();
            }),
          ),
        ),
      );
      Reflect.deleteProperty(store, 'storeDeferred');
      expect(inOrder(sizes, [10])).toBe(true);
      // One statement stored them all, in the order appended.
      const ours = stored
        .map((streams) => streams.filter((stream) => stream.startsWith('grouped-')))
        .filter((streams) => streams.length > 0);
      expect(ours).toEqual([events.map((event) => event.orderId)]);
      const seqs = events.map((event) => event.meta.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      for (const event of events) {
        expect((await store.readStream(event.orderId)).map((e) => e.meta.eventId)).toEqual([
          event.meta.eventId,
        ]);
      }
    });
  }

  it('stores the events an aggregate commit()s inside a unit with that unit, and only then', async () => {
    const publisher = t.app.get(EventPublisher);
    const storedStreams = async () =>
      (
        await database.reader
          .selectFrom('event_log')
          .select('stream_id')
          .where('stream_id', 'like', 'textbook-%')
          .orderBy('stream_id')
          .execute()
      ).map((row) => row.stream_id);
    // commit() returns nothing to await: the unit still waits for the events it publishes.
    await uow.transaction(async (tx) => {
      const notice = publisher.mergeObjectContext(new Notice());
      notice.send('textbook-1');
      notice.commit();
      await writeKey(tx, 'textbook-key-1');
    });
    expect(await storedStreams()).toEqual(['textbook-1']);
    expect(await storedKeys('textbook-key-')).toEqual(['textbook-key-1']);
    // A unit that fails after commit() takes its events with it.
    await expect(
      uow.transaction(async (tx) => {
        const notice = publisher.mergeObjectContext(new Notice());
        notice.send('textbook-2');
        notice.commit();
        await writeKey(tx, 'textbook-key-2');
        throw new Error('the state change fails after all');
      }),
    ).rejects.toThrow('the state change fails after all');
    expect(await storedStreams()).toEqual(['textbook-1']);
    expect(await storedKeys('textbook-key-')).toEqual(['textbook-key-1']);
  });

  it('takes requests first, beside a small share of deliveries, and bounds every turn', async () => {
    const ran: string[] = [];
    const done: string[] = [];
    const recording = recordCommits();
    const background = Array.from({ length: 200 }, (_, i) =>
      messageContext.run({ correlationId: 'test', causationId: null, background: true }, () =>
        uow
          .transaction(async (tx) => {
            ran.push(`delivery-${i}`);
            await writeKey(tx, `share-d-${String(i).padStart(3, '0')}`);
          })
          .then(() => done.push(`delivery-${i}`)),
      ),
    );
    // Submitted after every delivery, yet not behind them.
    const requests = Array.from({ length: 3 }, (_, i) =>
      uow
        .transaction(async (tx) => {
          ran.push(`request-${i}`);
          await writeKey(tx, `share-r-${i}`);
        })
        .then(() => done.push(`request-${i}`)),
    );
    await Promise.all([...background, ...requests]);
    recording.stop();
    const { sizes } = recording;
    if (sqlite) {
      // One writer: requests run first. Beside waiting requests a turn takes 16 deliveries;
      // alone, up to 128. So the 200 take three turns: 3 requests + 16, then 128, then 56.
      expect(ran.slice(0, 3)).toEqual(['request-0', 'request-1', 'request-2']);
    } else {
      // Requests group on a connection of their own: they commit while the deliveries' groups
      // (128, then 72) are still going.
      expect(done.indexOf('request-2')).toBeLessThan(done.indexOf('delivery-199'));
    }
    // Every turn is bounded: beside waiting requests 16 deliveries (3 + 16 on SQLite), else 128.
    expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(128);
    expect(await storedKeys('share-')).toHaveLength(203);
  });

  it('sells and gives back a reservation once when two copies of the step share a transaction', async () => {
    // Units of one PostgreSQL group do not wait for each other's row locks: the guarded move of
    // the reservation must come before its effects on the stock. (Last: the events it raises
    // concern no order, and their deliveries would disturb the counts of the tests above.)
    const stock = t.app.get(StockRepository);
    const product = async () =>
      database.reader
        .selectFrom('products')
        .select(['available', 'reserved', 'sold'])
        .where('product_id', '=', 'product-2')
        .executeTakeFirstOrThrow();
    const counts = async () => {
      const row = await product();
      return {
        available: Number(row.available),
        reserved: Number(row.reserved),
        sold: Number(row.sold),
      };
    };
    const before = await counts();
    const [sold, released] = [newId(), newId()];
    await stock.reserve(sold, [{ productId: 'product-2', quantity: 2 }]);
    await stock.reserve(released, [{ productId: 'product-2', quantity: 3 }]);
    await Promise.all([
      stock.commit(sold),
      stock.commit(sold),
      stock.release(released, 'test'),
      stock.release(released, 'test'),
    ]);
    expect(await counts()).toEqual({
      available: before.available - 2,
      reserved: before.reserved,
      sold: before.sold + 2,
    });
  });
  it('records a payment and settles it once when two copies of each step share a transaction', async () => {
    // On PostgreSQL the copies' inserts and guarded updates go out as ONE statement each (see
    // SharedWrite): of two rows for one payment, one is applied. (Last, like the test above: the
    // events raised concern no stored order.)
    const payments = t.app.get(PaymentRepository);
    const store = t.app.get(EventStore);
    const orderId = `copies-${newId()}`;
    await Promise.all([
      payments.initiate(orderId, 1234, CURRENCY),
      payments.initiate(orderId, 1234, CURRENCY),
    ]);
    const payment = (await payments.findByOrder(orderId))!;
    expect(payment).toMatchObject({ order_id: orderId, status: 'PENDING' });
    await Promise.all([
      payments.settle(payment, { ok: true }),
      payments.settle(payment, { ok: false, reason: 'declined' }),
    ]);
    const settled = (await payments.findByOrder(orderId))!;
    const types = (await store.readStream(orderId)).map((e) => e.meta.type);
    expect(types.filter((type) => type === 'PaymentInitiated')).toHaveLength(1);
    expect(types.filter((type) => type !== 'PaymentInitiated')).toEqual([
      settled.status === 'COMPLETED' ? 'PaymentCompleted' : 'PaymentFailed',
    ]);
  });
  it('reserves stock for a group of orders as one by one would: never below zero, every unit taken counted once', async () => {
    // On PostgreSQL the takes of one product in a group are summed into one statement when the
    // stock covers them all, and run one by one in turn when it does not (see StockRepository).
    const catalog = t.app.get(CatalogRepository);
    const stock = t.app.get(StockRepository);
    const store = t.app.get(EventStore);
    const reserveAll = async (productId: string, available: number, quantities: number[]) => {
      await catalog.put(
        { productId, name: productId, unitPrice: 100, available },
        undefined,
        'test',
      );
      const orders = quantities.map(() => `stock-${newId()}`);
      await Promise.all(
        orders.map((orderId, i) =>
          stock.reserve(orderId, [{ productId, quantity: quantities[i] }]),
        ),
      );
      const reserved: number[] = [];
      for (const [i, orderId] of orders.entries()) {
        const types = (await store.readStream(orderId)).map((e) => e.meta.type);
        expect(types).toHaveLength(1); // reserved or insufficient, once
        if (types[0] === 'InventoryReserved') reserved.push(quantities[i]);
        else expect(types[0]).toBe('InventoryInsufficient');
      }
      const row = await database.reader
        .selectFrom('products')
        .select(['available', 'reserved'])
        .where('product_id', '=', productId)
        .executeTakeFirstOrThrow();
      return { available: Number(row.available), reserved: Number(row.reserved), taken: reserved };
    };
    const covered = await reserveAll(`stock-covered-${newId()}`, 10, [1, 2, 3, 4]);
    expect(covered).toEqual({ available: 0, reserved: 10, taken: [1, 2, 3, 4] });
    const short = await reserveAll(`stock-short-${newId()}`, 5, [3, 3, 2, 1, 1]);
    const sum = short.taken.reduce((a, b) => a + b, 0);
    expect(short.reserved).toBe(sum);
    expect(short.available).toBe(5 - sum);
    // One by one, in any order, stock is taken until no order left fits: at most 1 unit stays.
    expect(short.available).toBeLessThanOrEqual(1);
  });
  it('keeps stock whole when an order is released while its reservation is being taken in the same transaction', async () => {
    // Two deliveries of one order (a cancellation's release and the reservation, through two
    // subscribers' queues) may share a group: no row lock orders them. The release must give back
    // only stock the reservation holds, and the reservation what it took.
    const catalog = t.app.get(CatalogRepository);
    const stock = t.app.get(StockRepository);
    const productId = `stock-race-${newId()}`;
    await catalog.put(
      { productId, name: productId, unitPrice: 100, available: 6 },
      undefined,
      'test',
    );
    const held = `stock-held-${newId()}`;
    await stock.reserve(held, [{ productId, quantity: 5 }]); // 1 left, 5 reserved
    const counts = async () => {
      const row = await database.reader
        .selectFrom('products')
        .select(['available', 'reserved'])
        .where('product_id', '=', productId)
        .executeTakeFirstOrThrow();
      return { available: Number(row.available), reserved: Number(row.reserved) };
    };
    expect(await counts()).toEqual({ available: 1, reserved: 5 });
    // Short by one: the reservation cannot take its line; the release comes at the same moment.
    const order = `stock-race-order-${newId()}`;
    await Promise.all([
      stock.reserve(order, [{ productId, quantity: 2 }]),
      stock.release(order, 'cancelled'),
    ]);
    expect(await counts()).toEqual({ available: 1, reserved: 5 });
    // And one that can take its line, released at the same moment: whichever of the two moves
    // its reservation first, the order ends released, and the stock as it was.
    const other = `stock-race-other-${newId()}`;
    await Promise.all([
      stock.reserve(other, [{ productId, quantity: 1 }]),
      stock.release(other, 'cancelled'),
    ]);
    expect(await counts()).toEqual({ available: 1, reserved: 5 });
    const reservation = await database.reader
      .selectFrom('reservations')
      .select('status')
      .where('order_id', '=', other)
      .executeTakeFirstOrThrow();
    expect(reservation.status).toBe('RELEASED');
  });
});
