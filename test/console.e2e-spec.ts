import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import request from 'supertest';
import {
  ACTIVE_STATUSES,
  ORDER_STATUSES,
  TERMINAL_STATUSES,
} from '../src/orders/domain/order-status.js';
import { OrderCompleted } from '../src/orders/events/order-completed.event.js';
import {
  createTestApp,
  eventually,
  expectProblem,
  placeOrder,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';

/** The console: its files under the service's security headers, and GET /admin/overview. */

interface Overview {
  ordersByStatus: Record<string, number>;
  perMinute: Array<{ minute: string; completed: number; failed: number; cancelled: number }>;
  outbox: { waiting: number; oldestSeconds: number };
  deadLetters: { open: number };
  instance: { role: string; broker: string; backlog: number };
  generatedAt: string;
}

/** Fails every OrderCompleted while `broken`, so the overview has a dead letter to count. */
@EventsHandler(OrderCompleted)
class BrokenAuditor implements IEventHandler<OrderCompleted> {
  static broken = false;
  handle(): Promise<void> {
    return BrokenAuditor.broken ? Promise.reject(new Error('auditor down')) : Promise.resolve();
  }
}

const sum = (overview: Overview, key: 'completed' | 'failed' | 'cancelled') =>
  overview.perMinute.reduce((total, minute) => total + minute[key], 0);

afterAll(() => removeTempDatabases());

describe('operator console', () => {
  let t: TestApp;
  const overview = async () => (await t.api.get('/admin/overview').expect(200)).body as Overview;

  beforeAll(async () => {
    t = await createTestApp({
      config: { retryMaxAttempts: 1, retryBaseDelayMs: 5 },
      providers: [BrokenAuditor],
    });
  });
  afterAll(() => t.close());

  it('serves its page and modules without a token, under a policy that allows only its own scripts', async () => {
    const page = await request(t.http).get('/console/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    const policy = page.headers['content-security-policy'] as string;
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('upgrade-insecure-requests');
    expect(page.text).toContain('<script type="module" src="./js/main.js"></script>');
    const script = await request(t.http).get('/console/js/main.js').expect(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    await request(t.http).get('/console').expect(301).expect('location', '/console/');
  });

  it('serves its pages the order lifecycle as a module written from the service definition', async () => {
    const script = await request(t.http).get('/console/js/lifecycle.js').expect(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.headers['cache-control']).toBe('no-cache');
    const served = (await import(`data:text/javascript,${encodeURIComponent(script.text)}`)) as {
      STATUSES: string[];
      ACTIVE: Set<string>;
      TERMINAL: Set<string>;
    };
    expect(served.STATUSES).toEqual(ORDER_STATUSES);
    expect([...served.ACTIVE]).toEqual(ACTIVE_STATUSES);
    expect([...served.TERMINAL]).toEqual(TERMINAL_STATUSES);
    await request(t.http)
      .get('/console/js/lifecycle.js')
      .set('if-none-match', script.headers['etag'] as string)
      .expect(304);
  });

  it('answers the overview to admins only', async () => {
    expectProblem(await request(t.http).get('/admin/overview'), 401);
    expectProblem(await (await t.as('customer-1')).get('/admin/overview'), 403);
  });

  it('reports an empty service, then the orders, the outbox and the dead letters as they move', async () => {
    const empty = await overview();
    expect(empty.ordersByStatus).toEqual({
      PENDING: 0,
      VALIDATED: 0,
      INVENTORY_RESERVED: 0,
      PAYMENT_PROCESSING: 0,
      COMPLETED: 0,
      FAILED: 0,
      CANCELLED: 0,
    });
    expect(empty.perMinute).toHaveLength(15);
    const minutes = empty.perMinute.map((m) => m.minute);
    expect(minutes).toEqual([...minutes].sort());
    expect(Date.parse(`${minutes[14]}:00Z`)).toBeLessThanOrEqual(Date.parse(empty.generatedAt));
    expect(Date.parse(`${minutes[14]}:00Z`)).toBeGreaterThan(
      Date.parse(empty.generatedAt) - 60_000,
    );
    expect(sum(empty, 'completed') + sum(empty, 'failed') + sum(empty, 'cancelled')).toBe(0);
    expect(empty.outbox).toEqual({ waiting: 0, oldestSeconds: 0 });
    expect(empty.deadLetters).toEqual({ open: 0 });
    expect(empty.instance.role).toBe(t.config.amqpUrl ? 'through the broker' : 'delivering');
    expect(empty.instance.broker).toBe(t.config.amqpUrl ? 'ok' : 'not used');

    BrokenAuditor.broken = true;
    const completed = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    const failed = await placeOrder(t.api, [{ productId: 'product-3', quantity: 1000 }]);
    expect((await settled(t.api, completed)).status).toBe('COMPLETED');
    expect((await settled(t.api, failed)).status).toBe('FAILED');

    const after = await eventually(
      overview,
      (o) => o.deadLetters.open === 1 && o.outbox.waiting === 0,
      {
        what: 'the dead letter to be counted and the outbox to drain',
      },
    );
    expect(after.ordersByStatus).toMatchObject({ COMPLETED: 1, FAILED: 1, PENDING: 0 });
    expect(sum(after, 'completed')).toBe(1);
    expect(sum(after, 'failed')).toBe(1);
    expect(sum(after, 'cancelled')).toBe(0);

    BrokenAuditor.broken = false;
    const [letter] = (await t.api.get('/admin/dead-letters').expect(200)).body as Array<{
      id: string;
    }>;
    await t.api.post(`/admin/dead-letters/${letter!.id}/replay`).expect(202);
    await eventually(overview, (o) => o.deadLetters.open === 0 && o.outbox.waiting === 0, {
      what: 'the replayed dead letter to leave the count',
    });
  });
});
