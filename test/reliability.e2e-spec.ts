import { principalId } from '../src/auth/principal.js';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import request from 'supertest';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { DeliveryLog } from '../src/durable-cqrs/delivery-log.js';
import { Inbox } from '../src/durable-cqrs/inbox.js';
import {
  PAYMENT_GATEWAY,
  type PaymentGateway,
} from '../src/payments/domain/payment-gateway.port.js';
import type { DomainEvent } from '../src/durable-cqrs/domain-event.js';
import { EventStore } from '../src/durable-cqrs/event-store.js';
import { EventTransport } from '../src/durable-cqrs/event-transport.js';
import { ParkedLanes } from '../src/durable-cqrs/parked-lanes.js';
import { SubscriberRegistry } from '../src/durable-cqrs/subscribers.js';
import { RuntimeMetrics } from '../src/durable-cqrs/runtime-metrics.js';
import { capture } from './support/log-capture.js';
import { IDEMPOTENCY_CLAIM_LEASE_MS } from '../src/common/idempotency.js';
import { IdempotencyKeys } from '../src/orders/infrastructure/idempotency-keys.js';
import { callingOut, UnitOfWork, type Tx } from '../src/durable-cqrs/unit-of-work.js';
import { OrderCompleted } from '../src/orders/events/order-completed.event.js';
import { OrderCreated } from '../src/orders/events/order-created.event.js';
import {
  createTestApp,
  eventually,
  getOrder,
  orderEventTypes,
  placeOrder,
  removeTempDatabases,
  settled,
  stockOf,
  type TestApp,
  ADMIN_SUB,
} from './create-test-app.js';

afterAll(() => removeTempDatabases());

/** Reads what has committed. */
function db(t: TestApp): Database['reader'] {
  return t.app.get<Database>(DATABASE).reader;
}

/** Writes as the service does: in a unit of work. */
function write<T>(t: TestApp, work: (tx: Tx) => Promise<T>): Promise<T> {
  return t.app.get(UnitOfWork).transaction(work);
}

/**
 * Delivers one stored event to one subscriber right now, outside the transport, through the
 * delivery log both transports use, and records it: the path a redelivered message takes.
 */
async function deliverNow(t: TestApp, event: DomainEvent, subscriberId: string): Promise<void> {
  const subscriber = t.app.get(SubscriberRegistry).byId(subscriberId);
  if (!subscriber) throw new Error(`Unknown subscriber ${subscriberId}`);
  const log = t.app.get(DeliveryLog);
  const { outcome, recorded } = await log.attempt(subscriber, event, 0);
  if (outcome.status !== 'DONE') throw new Error(outcome.error ?? 'delivery failed');
  if (!recorded) await log.record(event, subscriberId, outcome);
}

async function paymentsOf(
  t: TestApp,
  orderId: string,
): Promise<Array<{ paymentId: string; status: string }>> {
  const response = await t.api.get(`/payments?orderId=${orderId}`).expect(200);
  return response.body as Array<{ paymentId: string; status: string }>;
}

/** Fails every delivery while `broken`; remembers what it handled, in order. */
@EventsHandler(OrderCreated, OrderCompleted)
class PoisonHandler implements IEventHandler<OrderCreated | OrderCompleted> {
  static broken = true;
  /** Fail this many times per order on OrderCreated, even when not broken. */
  static failFirst = 0;
  static handled: Array<{ orderId: string; type: string; ok: boolean }> = [];

  handle(event: OrderCreated | OrderCompleted): Promise<void> {
    const type = event.constructor.name;
    const failures = PoisonHandler.handled.filter(
      (h) => h.orderId === event.orderId && h.type === type && !h.ok,
    ).length;
    const fail =
      PoisonHandler.broken || (type === 'OrderCreated' && failures < PoisonHandler.failFirst);
    PoisonHandler.handled.push({ orderId: event.orderId, type, ok: !fail });
    return fail ? Promise.reject(new Error(`poison ${type}`)) : Promise.resolve();
  }
}

/** Always fails on OrderCreated; counts its runs. */
@EventsHandler(OrderCreated)
class RaceHandler implements IEventHandler<OrderCreated> {
  static runs = 0;
  handle(): Promise<void> {
    RaceHandler.runs++;
    return Promise.reject(new Error('race'));
  }
}

describe('retries, dead letters and replay', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      config: { retryMaxAttempts: 3, retryBaseDelayMs: 5 },
      providers: [PoisonHandler],
    });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    PoisonHandler.handled = [];
  });

  it('dead-letters a poison delivery after the last attempt while everything else flows', async () => {
    PoisonHandler.broken = true;
    const a = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    const b = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
    expect((await settled(t.api, a)).status).toBe('COMPLETED');
    expect((await settled(t.api, b)).status).toBe('COMPLETED');

    const letters = await eventually(
      async () =>
        (await t.api.get('/admin/dead-letters').expect(200)).body as Array<{
          id: string;
          subscriber: string;
          eventType: string;
          streamId: string;
          attempts: number;
          lastError: string;
        }>,
      (list) => list.filter((d) => d.streamId === a).length === 2,
      { what: 'both poison deliveries of order a to be dead-lettered' },
    );
    const created = letters.find((d) => d.streamId === a && d.eventType === 'OrderCreated')!;
    expect(created).toMatchObject({ subscriber: 'PoisonHandler', attempts: 3 });
    expect(created.lastError).toContain('poison OrderCreated');
    // Exactly RETRY_MAX_ATTEMPTS tries, then nothing more.
    expect(
      PoisonHandler.handled.filter((h) => h.orderId === a && h.type === 'OrderCreated'),
    ).toHaveLength(3);

    PoisonHandler.broken = false;
    const replayed = await t.api.post(`/admin/dead-letters/${created.id}/replay`).expect(202);
    expect(replayed.body).toMatchObject({ id: created.id, replayedAt: expect.any(String) });
    await eventually(
      () => Promise.resolve(PoisonHandler.handled),
      (handled) => handled.some((h) => h.orderId === a && h.type === 'OrderCreated' && h.ok),
      { what: 'the replayed delivery to succeed' },
    );
    const open = (await t.api.get('/admin/dead-letters').expect(200)).body as Array<{
      id: string;
    }>;
    expect(open.map((d) => d.id)).not.toContain(created.id);
    const all = (await t.api.get('/admin/dead-letters?includeReplayed=true').expect(200))
      .body as Array<{ id: string }>;
    expect(all.map((d) => d.id)).toContain(created.id);

    const again = await t.api.post(`/admin/dead-letters/${created.id}/replay`).expect(409);
    expect(again.body).toMatchObject({ code: 'DEAD_LETTER_ALREADY_REPLAYED' });
    await t.api.post('/admin/dead-letters/no-such-letter/replay').expect(404);
    // The order itself never noticed.
    expect((await getOrder(t.api, a)).status).toBe('COMPLETED');
  });

  it('retries with backoff and keeps one order’s events in order for the failing subscriber', async () => {
    PoisonHandler.broken = false;
    PoisonHandler.failFirst = 2;
    try {
      const ids = await Promise.all(
        [1, 2, 3].map((n) => placeOrder(t.api, [{ productId: 'product-3', quantity: n }])),
      );
      for (const id of ids) {
        await settled(t.api, id);
        const seen = await eventually(
          () => Promise.resolve(PoisonHandler.handled.filter((h) => h.orderId === id)),
          (list) => list.some((h) => h.type === 'OrderCompleted'),
          { what: `PoisonHandler to see OrderCompleted of ${id}` },
        );
        expect(seen.map((h) => `${h.type}:${h.ok}`)).toEqual([
          'OrderCreated:false',
          'OrderCreated:false',
          'OrderCreated:true',
          'OrderCompleted:true',
        ]);
      }
    } finally {
      PoisonHandler.failFirst = 0;
    }
  });
});

describe('dead-lettering happens once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      config: { retryMaxAttempts: 3, retryBaseDelayMs: 5 },
      providers: [RaceHandler],
    });
  });
  afterAll(() => t.close());

  async function lettersOf(eventId: string, subscriber: string): Promise<unknown[]> {
    return db(t)
      .selectFrom('dead_letters')
      .select(['subscriber', 'attempts'])
      .where('event_id', '=', eventId)
      .where('subscriber', '=', subscriber)
      .execute();
  }

  it('stores one dead letter however many copies of a delivery fail for the last time', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    await settled(t.api, id);
    const event = (await t.app.get(EventStore).readStream(id))[0];
    const log = t.app.get(DeliveryLog);
    const dead = { status: 'DEAD' as const, attempts: 3, error: 'Error: copy failed' };

    await Promise.all(Array.from({ length: 5 }, () => log.record(event, 'CopySubscriber', dead)));
    await log.record(event, 'CopySubscriber', dead);
    // A late retry of a stale copy does not bring a dead delivery back either.
    await log.record(event, 'CopySubscriber', { status: 'RETRY', attempts: 1, notBefore: 0 });
    expect(await lettersOf(event.meta.eventId, 'CopySubscriber')).toHaveLength(1);
    const row = await db(t)
      .selectFrom('deliveries')
      .select(['status', 'attempts'])
      .where('subscriber', '=', 'CopySubscriber')
      .where('event_id', '=', event.meta.eventId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'DEAD', attempts: 3 });

    // A replay reopens it; failing again after that is a new dead letter.
    await t.app.get(Inbox).reopen('CopySubscriber', event.meta.eventId);
    await log.record(event, 'CopySubscriber', dead);
    expect(await lettersOf(event.meta.eventId, 'CopySubscriber')).toHaveLength(2);
  });

  it('stores the dead letter even when the database is lost just as it is being written', async () => {
    const log = t.app.get(DeliveryLog);
    const record = log.record.bind(log);
    let lost = 0;
    log.record = async (event, subscriberId, outcome, write) => {
      if (subscriberId === 'RaceHandler' && outcome?.status === 'DEAD' && lost === 0) {
        lost++;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
      }
      return record(event, subscriberId, outcome, write);
    };
    try {
      RaceHandler.runs = 0;
      const id = await placeOrder(t.api, [{ productId: 'product-3', quantity: 1 }]);
      await settled(t.api, id);
      const created = (await t.app.get(EventStore).readStream(id))[0];
      const letters = await eventually(
        () => lettersOf(created.meta.eventId, 'RaceHandler'),
        (list) => list.length > 0,
        { what: 'the dead letter to be stored after all' },
      );
      expect(lost).toBe(1);
      expect(letters).toEqual([{ subscriber: 'RaceHandler', attempts: 3 }]);
      // The outcome was stored again; the failing subscriber was not run a fourth time.
      expect(RaceHandler.runs).toBe(3);
    } finally {
      log.record = record;
    }
  });

  // The in-process consumer only: with RabbitMQ no parked lanes are read back from the database.
  if (!process.env.TEST_AMQP_URL) {
    it('a refresh of the parked deliveries while a last failure is being recorded does not run it again', async () => {
      const log = t.app.get(DeliveryLog);
      const lanes = t.app.get(ParkedLanes);
      const record = log.record.bind(log);
      const calls: string[] = [];
      // Lands a read of the parked rows exactly between the last failure and its record.
      log.record = async (event, subscriberId, outcome, write) => {
        if (subscriberId === 'RaceHandler') calls.push(outcome?.status ?? 'none');
        if (subscriberId === 'RaceHandler' && outcome?.status === 'DEAD') await lanes.refresh();
        return record(event, subscriberId, outcome, write);
      };
      try {
        RaceHandler.runs = 0;
        const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
        await settled(t.api, id);
        const created = (await t.app.get(EventStore).readStream(id))[0];
        await eventually(
          async () => ({
            backlog: t.app.get(EventTransport).backlog,
            letters: await lettersOf(created.meta.eventId, 'RaceHandler'),
            parked: await db(t)
              .selectFrom('deliveries')
              .select('status')
              .where('event_id', '=', created.meta.eventId)
              .execute(),
          }),
          (s) => s.backlog === 0 && s.letters.length > 0 && s.parked.length === 0,
          { what: 'the poisoned OrderCreated to be dead-lettered and its parked row gone' },
        );
        expect(RaceHandler.runs).toBe(3);
        // The first failure is parked by its batch; the lane records the next two.
        expect(calls).toEqual(['RETRY', 'DEAD']);
        expect(await lettersOf(created.meta.eventId, 'RaceHandler')).toEqual([
          { subscriber: 'RaceHandler', attempts: 3 },
        ]);
      } finally {
        log.record = record;
      }
    });
  }
});

describe('duplicate delivery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ config: { paymentLatencyMs: 300 } });
  });
  afterAll(() => t.close());

  it('delivering every stored event of an order 10 more times, concurrently, changes nothing', async () => {
    const id = await placeOrder(t.api, [
      { productId: 'product-1', quantity: 2 },
      { productId: 'product-2', quantity: 1 },
    ]);
    expect((await settled(t.api, id)).status).toBe('COMPLETED');
    await eventually(
      () => stockOf(t.api, 'product-1'),
      (s) => s.reserved === 0,
      { what: 'stock to be sold' },
    );
    const store = t.app.get(EventStore);
    const subscribers = t.app.get(SubscriberRegistry).all();
    const before = {
      events: await orderEventTypes(t.api, id),
      p1: await stockOf(t.api, 'product-1'),
      p2: await stockOf(t.api, 'product-2'),
      charges: await db(t).selectFrom('gateway_charges').selectAll().execute(),
      notifications: await db(t).selectFrom('notifications').selectAll().execute(),
    };

    const deliveries: Array<Promise<void>> = [];
    for (const event of await store.readStream(id)) {
      for (const subscriber of subscribers.filter((s) => s.accepts(event))) {
        for (let i = 0; i < 10; i++) deliveries.push(deliverNow(t, event, subscriber.id));
      }
    }
    await Promise.all(deliveries);

    expect(await orderEventTypes(t.api, id)).toEqual(before.events);
    expect(await stockOf(t.api, 'product-1')).toEqual(before.p1);
    expect(await stockOf(t.api, 'product-2')).toEqual(before.p2);
    expect(await db(t).selectFrom('gateway_charges').selectAll().execute()).toEqual(before.charges);
    expect(await db(t).selectFrom('notifications').selectAll().execute()).toEqual(
      before.notifications,
    );
    expect(await paymentsOf(t, id)).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
  });

  it('reserves once when the validation event is delivered again while the order is in flight', async () => {
    const before = await stockOf(t.api, 'product-3');
    const id = await placeOrder(t.api, [{ productId: 'product-3', quantity: 2 }]);
    const store = t.app.get(EventStore);
    const validated = await eventually(
      async () => (await store.readStream(id)).find((e) => e.meta.type === 'OrderValidated'),
      (event) => event !== undefined,
      { what: 'OrderValidated' },
    );
    await Promise.all(
      Array.from({ length: 10 }, () =>
        deliverNow(t, validated!, 'OrderFulfilmentSaga.orderValidated'),
      ),
    );
    expect((await settled(t.api, id)).status).toBe('COMPLETED');
    const after = await eventually(
      () => stockOf(t.api, 'product-3'),
      (s) => s.reserved === 0,
      { what: 'stock to settle' },
    );
    expect(after.sold - before.sold).toBe(2);
    expect(after.available).toBe(before.available - 2);
    const types = await orderEventTypes(t.api, id);
    expect(types.filter((type) => type === 'InventoryReserved')).toHaveLength(1);
  });
});

/** Retries counted by the delivery metrics (both transports count them once stored). */
async function retriesOf(t: TestApp, subscriber: string): Promise<number> {
  const { values } = await t.app.get(RuntimeMetrics).deliveryRetries.get();
  return values
    .filter((value) => value.labels.subscriber === subscriber)
    .reduce((sum, value) => sum + value.value, 0);
}

describe('payment gateway failures', () => {
  it('retries transient failures (including lost answers) and never charges twice', async () => {
    const t = await createTestApp({
      config: { paymentTransientFailureRate: 0.6, retryMaxAttempts: 12, retryBaseDelayMs: 2 },
    });
    try {
      const ids = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }], `c-${i}`),
        ),
      );
      for (const id of ids) expect((await settled(t.api, id)).status).toBe('COMPLETED');
      const charges = await db(t).selectFrom('gateway_charges').selectAll().execute();
      const payments = await db(t).selectFrom('payments').selectAll().execute();
      expect(charges).toHaveLength(12);
      expect(charges.every((c) => c.status === 'SUCCEEDED')).toBe(true);
      expect(new Set(charges.map((c) => c.idempotency_key))).toEqual(
        new Set(payments.map((p) => p.payment_id)),
      );
      expect(await retriesOf(t, 'OrderFulfilmentSaga.paymentInitiated')).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  it('asks again after a hung call times out and finds the one charge', async () => {
    const logs = capture();
    const t = await createTestApp({
      config: { paymentHangRate: 1, paymentTimeoutMs: 200, retryBaseDelayMs: 5 },
      logs: logs.destination,
    });
    try {
      const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
      expect((await settled(t.api, id)).status).toBe('COMPLETED');
      const charges = await db(t).selectFrom('gateway_charges').selectAll().execute();
      expect(charges).toHaveLength(1);
      expect(charges[0].status).toBe('SUCCEEDED');
      const retries = logs
        .lines()
        .filter((line) => line.subscriber === 'OrderFulfilmentSaga.paymentInitiated')
        .filter((line) => line.outcome === 'RETRY');
      expect(retries.map((line) => line.error)).toEqual([
        expect.stringContaining('did not answer within 200 ms'),
      ]);
    } finally {
      await t.close();
    }
  });

  it('declines are final: the order fails without retrying the charge', async () => {
    const t = await createTestApp({ config: { paymentFailureRate: 1 } });
    try {
      const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
      const order = await settled(t.api, id);
      expect(order.status).toBe('FAILED');
      expect(order.failureReason).toMatch(/declined/);
      expect(await retriesOf(t, 'OrderFulfilmentSaga.paymentInitiated')).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('saga deadlines', () => {
  it('fails and compensates an order stuck in payment; the late successful charge is refunded', async () => {
    const t = await createTestApp({
      config: { paymentHangRate: 1, paymentTimeoutMs: 800, orderStepTimeoutMs: 300 },
    });
    try {
      const before = await stockOf(t.api, 'product-1');
      const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 3 }]);
      const order = await settled(t.api, id);
      expect(order.status).toBe('FAILED');
      expect(order.failureReason).toMatch(/Timed out: no progress in PAYMENT_PROCESSING/);
      const payments = await eventually(
        () => paymentsOf(t, id),
        (list) => list[0]?.status === 'REFUNDED',
        { what: 'the late charge to be refunded' },
      );
      expect(payments).toHaveLength(1);
      const charges = await db(t).selectFrom('gateway_charges').selectAll().execute();
      expect(charges.map((c) => c.status)).toEqual(['REFUNDED']);
      expect(await stockOf(t.api, 'product-1')).toEqual(before);
      const types = await orderEventTypes(t.api, id);
      expect(types).not.toContain('OrderCompleted');
      expect(types.indexOf('OrderFailed')).toBeLessThan(types.indexOf('PaymentCompleted'));
      expect(types.filter((type) => type === 'OrderFailureNotificationSent')).toHaveLength(1);
      expect((await getOrder(t.api, id)).status).toBe('FAILED');
    } finally {
      await t.close();
    }
  });
});

describe('a charge still under way when its order closes', () => {
  it('never charges a payment recorded failed: the key is voided first', async () => {
    // Every call takes longer than the caller waits, and the order's deadline passes meanwhile:
    // the retry finds the order closed while the first call is still on its way to charge.
    const t = await createTestApp({
      config: {
        paymentLatencyMs: 700,
        paymentTimeoutMs: 150,
        orderStepTimeoutMs: 200,
        retryBaseDelayMs: 50,
      },
    });
    try {
      const gateway = t.app.get<PaymentGateway>(PAYMENT_GATEWAY);
      const charge = gateway.charge.bind(gateway);
      let underWay = 0;
      gateway.charge = async (request) => {
        underWay++;
        try {
          return await charge(request);
        } finally {
          underWay--;
        }
      };
      const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
      const order = await settled(t.api, id);
      expect(order.status).toBe('FAILED');
      await eventually(
        () => Promise.resolve(underWay),
        (n) => n === 0,
        { what: 'the calls under way to end' },
      );
      const [payment] = await paymentsOf(t, id);
      const charges = await db(t).selectFrom('gateway_charges').selectAll().execute();
      expect(payment.status).toBe('FAILED');
      expect(charges.map((c) => [c.idempotency_key, c.status])).toEqual([
        [payment.paymentId, 'VOIDED'],
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('idempotent POST /orders', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const body = (customerId: string, quantity = 1) => ({
    customerId,
    items: [{ productId: 'product-1', quantity }],
  });

  async function ordersOf(customerId: string): Promise<string[]> {
    const response = await t.api.get(`/orders?customerId=${customerId}`).expect(200);
    return (response.body as { items: Array<{ id: string }> }).items.map((o) => o.id);
  }

  /** The id of t.api's principal (an admin token without an issuer). */
  const ADMIN_PRINCIPAL = principalId('admin', ADMIN_SUB);

  /** Changes the stored row of a key of t.api's principal. */
  function changeKey(key: string, set: { request_hash?: string; updated_at?: string }) {
    return write(t, (tx) =>
      tx.db.updateTable('idempotency_keys').set(set).where('key', '=', key).execute(),
    );
  }

  /** A moment just past the lease of a claim made now. */
  const pastTheLease = () => new Date(Date.now() - IDEMPOTENCY_CLAIM_LEASE_MS - 1000).toISOString();

  /** A key claimed at `at` by a request of t.api's principal that has not completed it. */
  function claimedKey(key: string, requestHash: string, at: string, claim: string | null) {
    return write(t, (tx) =>
      tx.db
        .insertInto('idempotency_keys')
        .values({
          principal: ADMIN_PRINCIPAL, // the principal of t.api's requests: keys are scoped to it
          key,
          request_hash: requestHash,
          state: 'IN_FLIGHT',
          claim,
          response_status: null,
          response_body: null,
          created_at: at,
          updated_at: at,
        })
        .execute(),
    );
  }

  it('returns the first response again for the same key and body', async () => {
    const first = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-1')
      .send(body('idem-1'))
      .expect(202);
    // Same JSON with its keys in another order is the same request.
    const second = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-1')
      .send({ items: [{ quantity: 1, productId: 'product-1' }], customerId: 'idem-1' })
      .expect(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await ordersOf('idem-1')).toEqual([first.body.id]);
  });

  it('answers 422 when the key comes back with another body, and stores nothing', async () => {
    await t.api.post('/orders').set('Idempotency-Key', 'key-2').send(body('idem-2')).expect(202);
    const response = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-2')
      .send(body('idem-2', 2))
      .expect(422);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await ordersOf('idem-2')).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is in flight', async () => {
    await claimedKey('key-3', 'whatever', new Date().toISOString(), null);
    // The in-flight check comes after the body check: same body or not, it is not stored twice.
    await t.api.post('/orders').set('Idempotency-Key', 'key-3').send(body('idem-3')).expect(422);
    const hash = (await hashOf(body('idem-3')))!;
    await changeKey('key-3', { request_hash: hash });
    const response = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-3')
      .send(body('idem-3'))
      .expect(409);
    expect(response.body).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
    expect(await ordersOf('idem-3')).toHaveLength(0);
  });

  it('takes over a claim abandoned past its lease (its request died) and places one order', async () => {
    const hash = await hashOf(body('idem-6'));
    await claimedKey('key-6', hash, pastTheLease(), 'a request that died');
    const placed = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-6')
      .send(body('idem-6'))
      .expect(202);
    expect(await ordersOf('idem-6')).toEqual([placed.body.id]);
    const again = await t.api
      .post('/orders')
      .set('Idempotency-Key', 'key-6')
      .send(body('idem-6'))
      .expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(placed.body.id);
  });

  it('refuses to complete a claim that another request took over, and keeps that one', async () => {
    const keys = t.app.get(IdempotencyKeys);
    const scoped = { principal: ADMIN_PRINCIPAL, key: 'key-7' };
    const hash = await hashOf(body('idem-7'));
    const slow = await keys.claim(scoped, hash);
    if (slow.kind !== 'claimed') throw new Error('the first request should claim the key');
    // Its lease runs out (as if it had stalled), and a retry takes the key over.
    await changeKey('key-7', { updated_at: pastTheLease() });
    const retry = await keys.claim(scoped, hash);
    if (retry.kind !== 'claimed') throw new Error('the retry should take the key over');

    // The first request comes back before the retry is done: it may neither complete (its order
    // would roll back with the refusal) nor give the key back.
    await expect(
      write(t, (tx) => keys.complete(tx, scoped, slow.token, 202, { from: 'the first' })),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
    await keys.release(scoped, slow.token);
    await write(t, (tx) => keys.complete(tx, scoped, retry.token, 202, { from: 'the retry' }));
    expect(await keys.claim(scoped, hash)).toEqual({
      kind: 'replay',
      status: 202,
      body: { from: 'the retry' },
    });
  });

  it('places one order for 20 concurrent requests with the same key', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.api.post('/orders').set('Idempotency-Key', 'key-4').send(body('idem-4')),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const ids = new Set(responses.filter((r) => r.status === 202).map((r) => r.body.id as string));
    expect(ids.size).toBe(1);
    expect(await ordersOf('idem-4')).toEqual([...ids]);
  });

  it('rejects a malformed key with 400', async () => {
    for (const key of ['has space', 'x'.repeat(256)]) {
      const response = await t.api
        .post('/orders')
        .set('Idempotency-Key', key)
        .send(body('idem-5'))
        .expect(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
    }
    expect(await ordersOf('idem-5')).toHaveLength(0);
  });
});

async function hashOf(value: unknown): Promise<string> {
  const { canonicalJson, sha256 } = await import('../src/common/canonical-json.js');
  return sha256(canonicalJson(value));
}

/** Holds every OrderCreated until the gate opens, like a subscriber stuck on a slow partner. */
@EventsHandler(OrderCreated)
class GateHandler implements IEventHandler<OrderCreated> {
  static open: () => void = () => undefined;
  static opened = new Promise<void>((resolve) => (GateHandler.open = resolve));

  async handle(): Promise<void> {
    callingOut('a test gate'); // waits on something other than the database: outside any unit
    await GateHandler.opened;
  }
}

const ORDER = {
  customerId: 'customer-1',
  items: [{ productId: 'product-1', quantity: 1 }],
};

// The in-process dispatcher holds the backlog (with RabbitMQ the broker does).
if (!process.env.TEST_AMQP_URL) {
  describe('back-pressure', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        config: { backlogLimit: 100, dispatchConcurrency: 1 },
        providers: [GateHandler],
      });
    });
    afterAll(() => t.close());

    it('answers 503 problem+json with Retry-After past the backlog limit, then takes orders again', async () => {
      const accepted: string[] = [];
      let refused: request.Response | undefined;
      // Concurrent clients, as real ones are, until the service refuses one.
      for (let round = 0; round < 20 && !refused; round++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => t.api.post('/orders').send(ORDER)),
        );
        for (const answer of answers) {
          if (answer.status === 202) accepted.push((answer.body as { id: string }).id);
          else refused ??= answer;
        }
      }
      expect(refused).toBeDefined();
      expect(refused!.status).toBe(503);
      expect(refused!.headers['retry-after']).toBe('1');
      expect(refused!.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused!.body).toMatchObject({ status: 503, code: 'SERVICE_OVERLOADED' });
      // The backlog stopped near the limit instead of growing with every request: past it are
      // at most the last round's 20 orders, each with the few events and parked deliveries
      // (the gate's, its payment's) it makes before it waits behind the gate.
      expect(t.app.get(EventTransport).backlog).toBeLessThan(100 + 20 * 3);

      GateHandler.open();
      await eventually(
        () => Promise.resolve(t.app.get(EventTransport).backlog),
        (backlog) => backlog < 100,
        { what: 'the backlog to drain', timeoutMs: 30_000 },
      );
      await t.api.post('/orders').send(ORDER).expect(202);
      // Every order accepted before the refusal still finishes.
      for (const id of accepted) {
        expect((await settled(t.api, id, 30_000)).status).toMatch(/COMPLETED|FAILED/);
      }
    });
  });
}
