import { notHandedOn } from '../src/durable-cqrs/event-log-rows.js';
import { CommandBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import { UnitOfWork } from '../src/durable-cqrs/unit-of-work.js';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { RetentionJob } from '../src/lifecycle/retention.job.js';
import { EMAIL_SENDER, type EmailSender } from '../src/notifications/domain/email-sender.port.js';
import { PlaceOrder } from '../src/orders/commands/place-order/place-order.command.js';
import {
  PAYMENT_GATEWAY,
  type PaymentGateway,
} from '../src/payments/domain/payment-gateway.port.js';
import {
  createTestApp,
  eventually,
  getOrder,
  placeOrder,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';

const DAY_MS = 86_400_000;
const ITEMS = [{ productId: 'product-1', quantity: 1 }];

afterAll(() => removeTempDatabases());

describe('idempotency keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('belong to a principal: two principals with one key get two orders', async () => {
    const bus = t.app.get(CommandBus);
    const place = (principal: string) =>
      bus.execute(
        new PlaceOrder('customer-1', null, ITEMS, { key: 'shared', requestHash: 'h' }, principal),
      );
    const alice = await place('alice');
    const bob = await place('bob');
    const again = await place('alice');
    expect(bob.order.id).not.toBe(alice.order.id);
    expect([alice.replayed, bob.replayed]).toEqual([false, false]);
    expect(again).toEqual({ order: alice.order, replayed: true });
  });
});

describe('idempotency key expiry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ config: { idempotencyKeyTtlMs: 1000 } });
  });
  afterAll(() => t.close());

  it('an expired key places a new order', async () => {
    const post = () =>
      t.api
        .post('/orders')
        .set('Idempotency-Key', 'short-lived')
        .send({ customerId: 'customer-1', items: ITEMS })
        .expect(202);
    const first = (await post()).body as { id: string };
    const replay = await post();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((replay.body as { id: string }).id).toBe(first.id);
    const later = await eventually(
      post,
      (response) => (response.body as { id: string }).id !== first.id,
      { intervalMs: 100, what: 'the key to expire' },
    );
    expect(later.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('retention and erasure', () => {
  let t: TestApp;
  let db: Database;
  let holdCharges: Promise<void> | undefined;
  let failSends = false;
  const sentTo: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ config: { retentionEventLogDays: 30, retryMaxAttempts: 50 } });
    db = t.app.get<Database>(DATABASE);
    const gateway = t.app.get<PaymentGateway>(PAYMENT_GATEWAY);
    const charge = gateway.charge.bind(gateway);
    gateway.charge = async (charged) => {
      if (holdCharges) await holdCharges;
      return charge(charged);
    };
    const sender = t.app.get<EmailSender>(EMAIL_SENDER);
    const send = sender.send.bind(sender);
    sender.send = async (message) => {
      if (failSends) throw new Error('mail server down (test)');
      sentTo.push(message.to);
      return send(message);
    };
  });
  afterAll(() => t.close());

  const count = async (
    table: 'event_log' | 'idempotency_keys' | 'gateway_calls' | 'dead_letters',
  ): Promise<number> => {
    const row = await db.reader
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const eventsOf = (orderId: string) =>
    db.reader.selectFrom('event_log').select('event_id').where('stream_id', '=', orderId).execute();
  const deliveriesOf = async (orderId: string) =>
    (
      await db.reader
        .selectFrom('deliveries')
        .select('status')
        .where('event_id', 'in', (eb) =>
          eb.selectFrom('event_log').select('event_id').where('stream_id', '=', orderId),
        )
        .execute()
    ).length;
  const paymentIdOf = async (orderId: string) =>
    (
      await db.reader
        .selectFrom('payments')
        .select('payment_id')
        .where('order_id', '=', orderId)
        .executeTakeFirstOrThrow()
    ).payment_id;
  const deadLetter = (id: string, replayedAt: string | null) =>
    db.writer
      .insertInto('dead_letters')
      .values({
        id,
        subscriber: 'test',
        event_id: `event-${id}`,
        event_type: 'OrderCreated',
        seq: 0,
        stream_id: `stream-${id}`,
        attempts: 5,
        last_error: 'test',
        failed_at: new Date().toISOString(),
        replayed_at: replayedAt,
      })
      .execute();

  it('removes what finished orders no longer need and keeps what an unfinished one needs', async () => {
    const finishedResponse = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'retention-1')
      .send({ customerId: 'customer-1', items: ITEMS })
      .expect(202);
    const finished = (finishedResponse.body as { id: string }).id;
    expect((await settled(t.api, finished)).status).toBe('COMPLETED');
    // Its last events are handed on (delivered, or relayed to the broker) just after they commit.
    await eventually(
      () =>
        db.reader
          .selectFrom('event_log')
          .select('seq')
          .where('stream_id', '=', finished)
          .where(notHandedOn(t.config, db.dialect))
          .execute(),
      (rows) => rows.length === 0,
      { what: 'the finished order to be handed on' },
    );
    const finishedPayment = await paymentIdOf(finished);
    await deadLetter('replayed', new Date().toISOString());
    await deadLetter('open', null);

    let release!: () => void;
    holdCharges = new Promise((resolve) => (release = resolve));
    const unfinished = await placeOrder(t.api, ITEMS);
    await eventually(
      () => getOrder(t.api, unfinished),
      (order) => order.status === 'PAYMENT_PROCESSING',
      { what: 'the charge to be under way' },
    );
    const unfinishedEvents = await eventsOf(unfinished);
    const unfinishedDeliveries = await deliveriesOf(unfinished);
    expect(unfinishedDeliveries).toBeGreaterThan(0);
    // Through a broker every delivery keeps its inbox row until retention; in-process a finished
    // delivery keeps none (the checkpoint moved past it) and only parked ones have rows.
    if (t.config.amqpUrl) expect(await deliveriesOf(finished)).toBeGreaterThan(0);
    else expect(await deliveriesOf(finished)).toBe(0);
    expect(await count('gateway_calls')).toBe(1);
    expect(await count('idempotency_keys')).toBe(1);

    const report = await t.app.get(RetentionJob).runOnce(new Date(Date.now() + 400 * DAY_MS));

    expect(await eventsOf(finished)).toEqual([]);
    expect(await deliveriesOf(finished)).toBe(0);
    expect(
      await db.reader
        .selectFrom('gateway_calls')
        .select('idempotency_key')
        .where('idempotency_key', '=', finishedPayment)
        .execute(),
    ).toEqual([]);
    expect(await count('idempotency_keys')).toBe(0);
    const deadLetters = await db.reader.selectFrom('dead_letters').select('id').execute();
    expect(deadLetters.map((row) => row.id)).toEqual(['open']);
    expect(report).toMatchObject({ idempotencyKeys: 1, gatewayCalls: 1, deadLetters: 1 });
    expect(report.events).toBeGreaterThan(0);

    // The order still under way keeps everything, and completes.
    expect(await eventsOf(unfinished)).toEqual(unfinishedEvents);
    expect(await deliveriesOf(unfinished)).toBe(unfinishedDeliveries);
    expect((await getOrder(t.api, finished)).status).toBe('COMPLETED');
    holdCharges = undefined;
    release();
    expect((await settled(t.api, unfinished)).status).toBe('COMPLETED');
  });

  it('erases a customer e-mail address and never sends to it again', async () => {
    const customerId = 'erase-me';
    const address = 'erase-me@example.com';
    const place = async () =>
      (
        (
          await t.api
            .post('/orders')
            .send({ customerId, customerEmail: address, items: ITEMS })
            .expect(202)
        ).body as { id: string }
      ).id;
    const sentOrder = await place();
    await settled(t.api, sentOrder);
    expect(sentTo).toContain(address);

    failSends = true;
    const unsentOrder = await place();
    await eventually(
      () => t.api.get(`/notifications?orderId=${unsentOrder}`).expect(200),
      (response) => (response.body as unknown[]).length === 1,
      { what: 'the notification to be pending' },
    );

    const erasure = await t.api.post(`/admin/customers/${customerId}/erasure`).expect(200);
    expect(erasure.body).toMatchObject({
      customerId,
      orders: 2,
      notifications: 2,
      notificationsSkipped: 1,
    });
    expect((erasure.body as { events: number }).events).toBeGreaterThanOrEqual(5);
    const notifyDeliveries = () =>
      db.reader
        .selectFrom('deliveries')
        .select('status')
        .where('subscriber', 'like', '%NotifyCustomer%')
        .where('event_id', 'in', (eb) =>
          eb.selectFrom('event_log').select('event_id').where('stream_id', '=', unsentOrder),
        )
        .execute();
    // In-process, the failing delivery is parked (a RETRY row) until it succeeds.
    if (!t.config.amqpUrl) {
      expect((await notifyDeliveries()).map((row) => row.status)).toEqual(['RETRY']);
    }
    const sentBefore = sentTo.length;
    failSends = false;

    // The pending notification's delivery is retried, finds it skipped, and sends nothing. Its
    // record: the inbox row DONE (through a broker), or the parked row gone (in-process).
    await eventually(
      notifyDeliveries,
      (rows) =>
        t.config.amqpUrl
          ? rows.length > 0 && rows.every((row) => row.status === 'DONE')
          : rows.length === 0,
      { what: 'the notification delivery to finish' },
    );
    expect(sentTo.slice(sentBefore)).not.toContain(address);

    for (const id of [sentOrder, unsentOrder]) {
      const order = (await t.api.get(`/orders/${id}`).expect(200)).body as {
        customerEmail: string | null;
        status: string;
        totalAmount: string;
      };
      expect(order).toMatchObject({
        customerEmail: null,
        status: 'COMPLETED',
        totalAmount: '50.00',
      });
      const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as Array<{
        type: string;
      }>;
      expect(events.map((event) => event.type)).toContain('OrderCompleted');
      expect(JSON.stringify(events)).not.toContain(address);
    }
    const notifications = (await t.api.get('/notifications').expect(200)).body as Array<{
      orderId: string;
      recipient: string;
      status: string;
      skipReason: string | null;
    }>;
    const mine = notifications.filter((n) => [sentOrder, unsentOrder].includes(n.orderId));
    expect(mine).toHaveLength(2);
    expect(mine.every((n) => n.recipient === '[erased]')).toBe(true);
    expect(mine.find((n) => n.orderId === unsentOrder)).toMatchObject({
      status: 'SKIPPED',
      skipReason: expect.stringContaining('erased') as string,
    });
    expect(mine.find((n) => n.orderId === sentOrder)?.status).toBe('SENT');
  });
});

describe('erasure of a customer with many orders', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it.each([
    ['a NUL', '%00'],
    ['a right-to-left override (U+202E)', 'customer%E2%80%AEtxt.exe'],
    ['a line separator (U+2028)', 'customer%E2%80%A8'],
  ])('refuses a customer id with %s (400) and records no erasure', async (_name, id) => {
    const response = await t.api.post(`/admin/customers/${id}/erasure`).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const db = t.app.get<Database>(DATABASE);
    const erasures = await db.reader
      .selectFrom('customer_erasures')
      .select('customer_id')
      .execute();
    expect(erasures).toEqual([]);
  });

  it('erases 100,000 orders and their notifications in one answer', async () => {
    const customerId = 'many-orders';
    const address = 'many-orders@example.com';
    const placed = (
      (
        await t.api
          .post('/orders')
          .send({ customerId, customerEmail: address, items: ITEMS })
          .expect(202)
      ).body as { id: string }
    ).id;
    await settled(t.api, placed);
    // More order ids than either database takes in one statement (SQLite 32,766, PostgreSQL
    // 65,535), each order with a notification sent to the address.
    const bulk = 100_000;
    const now = new Date().toISOString();
    await t.app.get(UnitOfWork).transaction(async (tx) => {
      await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${bulk})
        INSERT INTO orders (id, customer_id, customer_email, status, items, total_amount, currency,
          failure_reason, reserved_products, version, created_at, updated_at)
        SELECT 'bulk-' || i, ${customerId}, ${address}, 'COMPLETED', '[]', 100, 'EUR', NULL, '[]',
          1, ${now}, ${now} FROM n`.execute(tx.db);
      await sql`INSERT INTO notifications (notification_id, order_id, kind, recipient, subject,
          status, created_at, sent_at, skip_reason)
        SELECT 'bulk-n-' || id, id, 'ORDER_CONFIRMATION', ${address}, 'Your order', 'SENT',
          ${now}, ${now}, NULL FROM orders WHERE id LIKE 'bulk-%'`.execute(tx.db);
    });

    const erasure = await t.api.post(`/admin/customers/${customerId}/erasure`).expect(200);

    expect(erasure.body).toMatchObject({
      customerId,
      orders: bulk + 1,
      notifications: bulk + 1,
      notificationsSkipped: 0,
    });
    expect((erasure.body as { events: number }).events).toBeGreaterThan(0);
    const db = t.app.get<Database>(DATABASE);
    const left = await sql<{ rows: number }>`
      SELECT (SELECT COUNT(*) FROM orders WHERE customer_email = ${address})
           + (SELECT COUNT(*) FROM notifications WHERE recipient = ${address})
           + (SELECT COUNT(*) FROM event_log WHERE payload LIKE ${`%${address}%`}) AS rows`.execute(
      db.reader,
    );
    expect(Number(left.rows[0].rows)).toBe(0);
  });
});
