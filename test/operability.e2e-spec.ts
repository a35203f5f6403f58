import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import pg from 'pg';
import request from 'supertest';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { callingOut } from '../src/durable-cqrs/unit-of-work.js';
import { OrderCreated } from '../src/orders/events/order-created.event.js';
import {
  createTestApp,
  eventually,
  expectProblem,
  placeOrder,
  removeTempDatabases,
  settled,
  type Api,
  type TestApp,
} from './create-test-app.js';

afterAll(() => removeTempDatabases());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format into samples. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples with this name whose labels include the given ones (0 when none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(api: Api): Promise<Sample[]> {
  const response = await api.get('/metrics').expect(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(response.text);
}

/** Fails OrderCreated on every attempt while `broken`: the road to the dead-letter store. */
@EventsHandler(OrderCreated)
class PoisonOnCreate implements IEventHandler<OrderCreated> {
  static broken = false;
  handle(event: OrderCreated): Promise<void> {
    if (!PoisonOnCreate.broken) return Promise.resolve();
    return Promise.reject(new Error(`poison ${event.orderId}`));
  }
}

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers /health/live and /health/ready 200 without a token, with terminus bodies', async () => {
    const live = await request(t.http).get('/health/live').expect(200);
    expect(live.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });

    const ready = await request(t.http).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      error: {},
      info: {
        lifecycle: { status: 'up', state: 'running' },
        database: { status: 'up' },
        backlog: { status: 'up', waiting: expect.any(Number), limit: t.config.backlogLimit },
      },
    });
    const info = ready.body as { info: Record<string, unknown> };
    if (process.env.TEST_AMQP_URL) expect(info.info.broker).toEqual({ status: 'up' });
    else expect(info.info.broker).toBeUndefined();
  });

  it('keeps GET /health as it was', async () => {
    const response = await request(t.http).get('/health').expect(200);
    expect(response.body).toMatchObject({ status: 'ok', database: 'ok' });
  });
});

describe('readiness without the database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close().catch(() => undefined));

  it('answers /health/ready 503 naming the database, while /health/live stays 200', async () => {
    await request(t.http).get('/health/ready').expect(200);
    const database = t.app.get<Database>(DATABASE);
    const server = process.env.TEST_DATABASE_URL;
    if (server) {
      // The application's own database disappears under it, connections and all.
      const name = new URL(t.config.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    } else {
      database.sqlite!.close();
    }
    const ready = await request(t.http).get('/health/ready').expect(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { database: { status: 'down' } },
      info: { lifecycle: { status: 'up' } },
    });
    await request(t.http).get('/health/live').expect(200);
  });
});

/** Holds every OrderCreated until opened, like a subscriber waiting on a slow partner. */
@EventsHandler(OrderCreated)
class HeldOnCreate implements IEventHandler<OrderCreated> {
  static entered = false;
  static open: () => void = () => undefined;
  static opened = new Promise<void>((resolve) => (HeldOnCreate.open = resolve));

  async handle(): Promise<void> {
    callingOut('a test gate'); // waits on something other than the database: outside any unit
    HeldOnCreate.entered = true;
    await HeldOnCreate.opened;
  }
}

describe('while a delivery is under way', () => {
  let t: TestApp;
  let closing: Promise<void> | undefined;
  beforeAll(async () => {
    t = await createTestApp({ providers: [HeldOnCreate] });
  });
  afterAll(async () => {
    HeldOnCreate.open();
    await (closing ?? t.close());
  });

  it('reports the outbox lag: the held event waits, and its age grows', async () => {
    await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    await eventually(
      () => Promise.resolve(HeldOnCreate.entered),
      (entered) => entered,
      { what: 'the held subscriber to be running' },
    );
    // In-process the held event waits for its delivery; with a broker it waits only for the
    // relay, which hands it on at once.
    const amqp = Boolean(process.env.TEST_AMQP_URL);
    const samples = await eventually(
      () => scrape(t.api),
      (s) =>
        amqp
          ? valueOf(s, 'outbox_pending_events') === 0
          : valueOf(s, 'outbox_pending_events') >= 1 &&
            valueOf(s, 'outbox_oldest_pending_age_seconds') > 0,
      { what: 'the outbox lag to show the held event' },
    );
    expect(samples.some((s) => s.name === 'outbox_pending_events')).toBe(true);
    expect(samples.some((s) => s.name === 'outbox_oldest_pending_age_seconds')).toBe(true);
  });

  /**
   * Over HTTP, against the real shutdown: `app.close()` first runs the destroy hooks (readiness
   * turns to draining), then waits for the held delivery, and only then closes the HTTP server,
   * so an answer in between is observable.
   */
  it('answers /health/ready 503 once closing has begun, before the close completes', async () => {
    await request(t.http).get('/health/ready').expect(200);
    let closed = false;
    closing = t.close().then(() => {
      closed = true;
    });
    const ready = await eventually(
      () => request(t.http).get('/health/ready'),
      (response) => response.status === 503,
      { what: 'readiness to fail while draining' },
    );
    expect(closed).toBe(false);
    expect(ready.body).toMatchObject({
      error: { lifecycle: { status: 'down', state: 'draining' } },
    });
    // Terminus itself says 'shutting_down' once its own shutdown hook has run.
    expect(['error', 'shutting_down']).toContain((ready.body as { status: string }).status);
    HeldOnCreate.open();
    await closing;
  });
});

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      config: { retryMaxAttempts: 3, retryBaseDelayMs: 5 },
      providers: [PoisonOnCreate],
    });
  });
  afterAll(() => t.close());

  it('is for admins: 401 without a token, 403 for a customer', async () => {
    expectProblem(await request(t.http).get('/metrics'), 401);
    expectProblem(await (await t.as('customer-1')).get('/metrics'), 403);
  });

  it('counts placed and finished orders once each, with their durations', async () => {
    const before = await scrape(t.api);
    const completed = [
      await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]),
      await placeOrder(t.api, [{ productId: 'product-2', quantity: 2 }]),
    ];
    const failed = await placeOrder(t.api, [{ productId: 'no-such-product', quantity: 1 }]);
    for (const id of completed) expect((await settled(t.api, id)).status).toBe('COMPLETED');
    expect((await settled(t.api, failed)).status).toBe('FAILED');
    await t.api.get(`/orders/${failed}`).expect(200);

    const after = await scrape(t.api);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(moved('orders_placed_total')).toBe(3);
    expect(moved('orders_finished_total', { status: 'COMPLETED' })).toBe(2);
    expect(moved('orders_finished_total', { status: 'FAILED' })).toBe(1);
    expect(moved('orders_finished_total', { status: 'CANCELLED' })).toBe(0);
    expect(moved('order_duration_seconds_count', { status: 'COMPLETED' })).toBe(2);
    expect(moved('order_duration_seconds_count', { status: 'FAILED' })).toBe(1);
    expect(moved('order_duration_seconds_sum', { status: 'COMPLETED' })).toBeGreaterThan(0);

    // Requests by route template, never by raw URL.
    expect(
      valueOf(after, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/orders/:id',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      valueOf(after, 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/orders',
        status: '202',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(after.some((s) => Object.values(s.labels).some((v) => v.includes(failed)))).toBe(false);

    // Deliveries by subscriber, commits by size, and the runtime's own metrics.
    expect(
      moved('event_delivery_duration_seconds_count', {
        subscriber: 'NotifyCustomerHandler',
        outcome: 'DONE',
      }),
    ).toBeGreaterThan(0);
    expect(moved('group_commit_units_count')).toBeGreaterThan(0);
    expect(moved('group_commit_units_sum')).toBeGreaterThanOrEqual(
      moved('group_commit_units_count'),
    );
    // Statements and commits sent to the database: every order took some of each.
    expect(moved('db_statements_total')).toBeGreaterThan(moved('db_commits_total'));
    expect(moved('db_commits_total')).toBeGreaterThan(0);
    expect(after.some((s) => s.name.startsWith('nodejs_eventloop_lag_'))).toBe(true);
    expect(after.some((s) => s.name === 'outbox_pending_events')).toBe(true);
  });

  it('counts retries and the dead letter of a poison delivery', async () => {
    const labels = { subscriber: 'PoisonOnCreate' };
    const before = await scrape(t.api);
    PoisonOnCreate.broken = true;
    try {
      const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
      expect((await settled(t.api, id)).status).toBe('COMPLETED');
      const after = await eventually(
        () => scrape(t.api),
        (s) => valueOf(s, 'event_dead_letters_total', labels) > 0,
        { what: 'the dead letter to be counted' },
      );
      const moved = (name: string) => valueOf(after, name, labels) - valueOf(before, name, labels);
      expect(moved('event_dead_letters_total')).toBe(1);
      // RETRY_MAX_ATTEMPTS = 3: two failures retried, the third dead-lettered.
      expect(moved('event_delivery_retries_total')).toBe(2);
      expect(
        valueOf(after, 'event_delivery_duration_seconds_count', { ...labels, outcome: 'DEAD' }),
      ).toBe(1);
    } finally {
      PoisonOnCreate.broken = false;
    }
  });
});
