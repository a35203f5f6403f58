import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ofType, Saga, type ICommand, type IEvent } from '@nestjs/cqrs';
import { EMPTY, map, mergeMap, type Observable } from 'rxjs';
import { sql } from 'kysely';
import pg from 'pg';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { EventStore } from '../src/durable-cqrs/event-store.js';
import { EventTransport } from '../src/durable-cqrs/event-transport.js';
import { callingOut, UnitOfWork, type Tx } from '../src/durable-cqrs/unit-of-work.js';
import { OrderConfirmationSent } from '../src/notifications/events/order-confirmation-sent.event.js';
import { EMAIL_SENDER, type EmailMessage } from '../src/notifications/domain/email-sender.port.js';
import { OrderCreated } from '../src/orders/events/order-created.event.js';
import {
  createTestApp,
  eventually,
  getOrder,
  orderEventTypes,
  placeOrder,
  removeTempDatabases,
  settled,
  tempDatabaseUrl,
  TERMINAL,
  type TestApp,
} from './create-test-app.js';

afterAll(() => removeTempDatabases());

const FINAL_NOTIFICATIONS = ['OrderConfirmationSent', 'OrderFailureNotificationSent'];

describe('restart on the same database file', () => {
  it('keeps every order and finishes the unfinished ones', async () => {
    const databaseUrl = await tempDatabaseUrl();
    // Charges take a second: orders are certainly unfinished when the first app closes.
    const config = { databaseUrl, paymentLatencyMs: 1000, paymentFailureRate: 0.3 };

    const first = await createTestApp({ config });
    const done = await placeOrder(first.api, [{ productId: 'product-1', quantity: 1 }]);
    const finished = await settled(first.api, done);
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        placeOrder(first.api, [{ productId: `product-${(i % 3) + 1}`, quantity: 1 }], `c-${i}`),
      ),
    );
    const beforeClose = await Promise.all(ids.map((id) => getOrder(first.api, id)));
    expect(beforeClose.some((o) => !TERMINAL.includes(o.status))).toBe(true);
    await first.close();

    // The same deployment started again: the same database and, with RabbitMQ, the same queues,
    // where the messages the first one had not consumed yet are waiting.
    const second = await createTestApp({
      config: { ...config, amqpPrefix: first.config.amqpPrefix },
    });
    try {
      expect(await getOrder(second.api, done)).toEqual(finished);
      for (const id of ids) {
        const order = await settled(second.api, id, 30_000);
        expect(TERMINAL).toContain(order.status);
        const types = await orderEventTypes(second.api, id);
        expect(types.filter((t) => FINAL_NOTIFICATIONS.includes(t))).toHaveLength(1);
        expect(types.filter((t) => t === 'OrderCreated')).toHaveLength(1);
        expect(types.filter((t) => t === 'PaymentInitiated').length).toBeLessThanOrEqual(1);
      }
      const inventory = await second.api.get('/inventory').expect(200);
      const initial: Record<string, number> = {
        'product-1': 100,
        'product-2': 50,
        'product-3': 25,
      };
      for (const p of inventory.body as Array<{
        productId: string;
        available: number;
        reserved: number;
        sold: number;
      }>) {
        expect(p.reserved).toBe(0);
        expect(p.available + p.reserved + p.sold).toBe(initial[p.productId]);
      }
    } finally {
      await second.close();
    }
  });
});

/** A saga whose stream throws the first time it meets each order: the dispatcher must retry it. */
@Injectable()
class FlakySaga {
  readonly seen: string[] = [];

  @Saga()
  flaky = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCreated),
      map((event) => {
        this.seen.push(event.orderId);
        if (this.seen.filter((id) => id === event.orderId).length === 1) {
          throw new Error(`saga failure on first sight of ${event.orderId}`);
        }
        return event;
      }),
      mergeMap(() => EMPTY),
    );
}

describe('a saga that throws', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ providers: [FlakySaga] });
  });
  afterAll(() => t.close());

  it('is retried, and neither its own later events nor other orders stop', async () => {
    const saga = t.app.get(FlakySaga);
    const a = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    expect((await settled(t.api, a)).status).toBe('COMPLETED');
    const b = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
    expect((await settled(t.api, b)).status).toBe('COMPLETED');
    // Each order failed once in the saga and was delivered to it again: the saga is still alive.
    expect(saga.seen.filter((id) => id === a)).toHaveLength(2);
    expect(saga.seen.filter((id) => id === b)).toHaveLength(2);
  });
});

describe('an event handler that throws once', () => {
  let t: TestApp;
  const sent: EmailMessage[] = [];
  let failures = 0;
  // Like every adapter of the outside world, it says so before it calls out (see callingOut): its
  // delivery then runs outside any transaction, never inside a batch that may run again.
  const flakySender = {
    send(message: EmailMessage): Promise<void> {
      callingOut('a flaky mail server');
      if (failures === 0) {
        failures++;
        return Promise.reject(new Error('mail server unavailable'));
      }
      sent.push(message);
      return Promise.resolve();
    },
  };

  beforeAll(async () => {
    t = await createTestApp({ overrides: [{ token: EMAIL_SENDER, useValue: flakySender }] });
  });
  afterAll(() => t.close());

  it('is retried, sends once, and the next orders go through', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map((n) => placeOrder(t.api, [{ productId: 'product-1', quantity: n }])),
    );
    for (const id of ids) {
      expect((await settled(t.api, id)).status).toBe('COMPLETED');
      const types = await orderEventTypes(t.api, id);
      expect(types.filter((type) => type === 'OrderConfirmationSent')).toHaveLength(1);
    }
    expect(failures).toBe(1);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((m) => m.messageId)).size).toBe(3);
  });
});

describe('the events of one stream commit in sequence order', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('a second transaction appending to a stream waits until the first one commits', async () => {
    const uow = t.app.get(UnitOfWork);
    const store = t.app.get(EventStore);
    const database = t.app.get<Database>(DATABASE);
    const streamId = randomUUID();
    const target = { streamId, aggregateType: 'Notification', aggregateId: streamId };
    // Nothing subscribes to OrderConfirmationSent, so these events only sit in the log.
    const first = new OrderConfirmationSent(streamId, 'n-1', 'first@example.com');
    const second = new OrderConfirmationSent(streamId, 'n-2', 'second@example.com');
    const committed: number[] = [];

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstAppended!: () => void;
    const appended = new Promise<void>((resolve) => (firstAppended = resolve));
    const one = uow
      .transaction(async (tx) => {
        await store.append(tx, [first], target);
        firstAppended();
        await gate; // holds the transaction open after taking its sequence number
      })
      .then(() => committed.push(first.meta.seq));
    await appended;

    let secondStarted = false;
    let secondDone = false;
    // On PostgreSQL the units of one instance wait for the group under way, so the second
    // transaction takes a connection of its own, as another instance or the consumer's batch does.
    const appendSecond = async (tx: Tx) => {
      secondStarted = true;
      await store.append(tx, [second], target);
    };
    const two = (
      database.dialect === 'postgres'
        ? uow.lockingTransaction(appendSecond)
        : uow.transaction(appendSecond)
    ).then(() => {
      committed.push(second.meta.seq);
      secondDone = true;
    });
    // The second transaction either gets through (which the lock must prevent) or waits: for
    // the stream's lock on PostgreSQL, for the one writer connection on SQLite.
    const waiting = async () =>
      database.dialect === 'postgres'
        ? Number(
            (
              await sql<{ n: string }>`SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted`.execute(database.reader)
            ).rows[0].n,
          ) > 0
        : !secondStarted;
    await eventually(
      async () => secondDone || (await waiting()),
      (settledOrWaiting) => settledOrWaiting,
      { what: 'the second transaction to commit or to wait' },
    );
    release();
    await Promise.all([one, two]);

    expect(committed).toHaveLength(2);
    expect(committed[0]).toBeLessThan(committed[1]);
    expect((await store.readStream(streamId)).map((e) => e.meta.seq)).toEqual(committed);
  });
});

// PostgreSQL only: the server closes every connection, as a restart or a failover does. (SQLite
// is a file opened by the process itself; there is no server to lose.)
if (process.env.TEST_DATABASE_URL) {
  describe('the database server closes every connection', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ config: { paymentLatencyMs: 100 } });
    });
    afterAll(() => t.close());

    /** Closes every connection to the app's database from the server side; how many it closed. */
    async function closeAllConnections(): Promise<number> {
      const name = new URL(t.config.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      try {
        const result = await admin.query(
          `SELECT pg_terminate_backend(pid) AS closed FROM pg_stat_activity
            WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [name],
        );
        return result.rows.length;
      } finally {
        await admin.end();
      }
    }

    const unavailable: Array<{ status: number; retryAfter?: string; code?: string }> = [];

    /** POSTs an order with an Idempotency-Key, asking again after a 503, until it is accepted. */
    async function place(n: number): Promise<string> {
      const key = `outage-${n}-${randomUUID()}`;
      const body = { customerId: `c-${n}`, items: [{ productId: 'product-1', quantity: 1 }] };
      const response = await eventually(
        () => t.api.post('/orders').set('Idempotency-Key', key).send(body),
        (r) => {
          if (r.status >= 500) {
            const problem = r.body as { code?: string };
            unavailable.push({
              status: r.status,
              retryAfter: r.headers['retry-after'],
              code: problem.code,
            });
          }
          return r.status === 202;
        },
        { what: `order ${n} to be accepted` },
      );
      return (response.body as { id: string }).id;
    }

    it('keeps running, answers 503 at worst, and every order still completes once', async () => {
      const first = await Promise.all(Array.from({ length: 10 }, (_, n) => place(n)));
      // The workflow of these orders is under way: the connections close under it.
      expect(await closeAllConnections()).toBeGreaterThan(0);
      const [second] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, (_, n) => place(10 + n))),
        closeAllConnections(),
      ]);
      for (const id of [...first, ...second]) {
        expect((await settled(t.api, id)).status).toBe('COMPLETED');
        const types = await orderEventTypes(t.api, id);
        expect(types.filter((type) => type === 'OrderConfirmationSent')).toHaveLength(1);
      }
      // Anything refused meanwhile was a 503 saying to try again, never another 5xx.
      for (const refusal of unavailable) {
        expect(refusal).toEqual({ status: 503, retryAfter: '1', code: 'DATABASE_UNAVAILABLE' });
      }
      const payments = await t.api.get('/payments').expect(200);
      const charged = (payments.body as Array<{ orderId: string; status: string }>).filter(
        (p) => p.status === 'COMPLETED',
      );
      expect(charged).toHaveLength(20);
      expect(new Set(charged.map((p) => p.orderId)).size).toBe(20);
      expect((await t.api.get('/admin/dead-letters').expect(200)).body).toEqual([]);
    });
  });
}

// PostgreSQL without a broker: several instances share the database, one delivers at a time.
// (With TEST_AMQP_URL every instance delivers through RabbitMQ instead; SQLite is one process.)
if (process.env.TEST_DATABASE_URL && !process.env.TEST_AMQP_URL) {
  describe('several instances on one PostgreSQL database without a broker', () => {
    it('one delivers, the others stand by, and one takes over when it stops', async () => {
      const databaseUrl = await tempDatabaseUrl();
      const sent: EmailMessage[] = [];
      const sender = {
        send(message: EmailMessage): Promise<void> {
          sent.push(message);
          return Promise.resolve();
        },
      };
      const options = {
        config: { databaseUrl },
        overrides: [{ token: EMAIL_SENDER, useValue: sender }],
      };
      const first = await createTestApp(options);
      const second = await createTestApp(options);
      let firstOpen = true;
      try {
        expect(first.app.get(EventTransport).role).toBe('delivering');
        expect(second.app.get(EventTransport).role).toBe('standing by');
        expect((await second.api.get('/health').expect(200)).body).toMatchObject({
          events: 'standing by',
        });

        // Orders taken by both; the events of those taken by the second wait in the log.
        const ids = await Promise.all(
          Array.from({ length: 10 }, (_, n) =>
            placeOrder((n % 2 === 0 ? first : second).api, [
              { productId: 'product-1', quantity: 1 },
            ]),
          ),
        );
        for (const id of ids) expect((await settled(second.api, id)).status).toBe('COMPLETED');
        expect(sent).toHaveLength(10);
        expect(new Set(sent.map((m) => m.messageId)).size).toBe(10);

        await first.close();
        firstOpen = false;
        await eventually(
          () => Promise.resolve(second.app.get(EventTransport).role),
          (role) => role === 'delivering',
          { what: 'the second instance to take over delivery' },
        );
        const later = await Promise.all(
          Array.from({ length: 4 }, () =>
            placeOrder(second.api, [{ productId: 'product-2', quantity: 1 }]),
          ),
        );
        for (const id of later) expect((await settled(second.api, id)).status).toBe('COMPLETED');
        expect(sent).toHaveLength(14);
      } finally {
        if (firstOpen) await first.close();
        await second.close();
      }
    });
  });
}
