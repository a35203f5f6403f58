import type { Server } from 'node:http';
import request from 'supertest';
import { CatalogRepository } from '../src/inventory/infrastructure/catalog.repository.js';
import { callingOut } from '../src/durable-cqrs/unit-of-work.js';
import {
  EMAIL_SENDER,
  type EmailMessage,
  type EmailSender,
} from '../src/notifications/domain/email-sender.port.js';
import type { Notification, OrderEvent, Problem } from './api-types.js';
import {
  createTestApp,
  expectProblem,
  getOrder,
  placeOrder,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';

/** The limits the service keeps to whatever a caller sends: money, identifiers, errors, headers. */

let t: TestApp;
/** Every e-mail the service sent, as the provider would receive it. */
const sent: EmailMessage[] = [];
const recordingSender: EmailSender = {
  send(message) {
    callingOut('the e-mail sender');
    sent.push(message);
    return Promise.resolve();
  },
};
beforeAll(async () => {
  t = await createTestApp({
    // Slow enough that a cancel sent right after the order always comes before the charge.
    config: { paymentLatencyMs: 1_000 },
    overrides: [{ token: EMAIL_SENDER, useValue: recordingSender }],
  });
});
afterAll(async () => {
  await t.close();
  await removeTempDatabases();
});

describe('money limits', () => {
  it('refuses a catalog price above MAX_UNIT_PRICE and takes one at it', async () => {
    const put = (unitPrice: string) =>
      t.api.put('/inventory/limit-price').send({ name: 'Dear', unitPrice, available: 1 });
    const problem = expectProblem(await put('1000000.01'), 400);
    expect(problem.code).toBe('PRODUCT_PRICE_ABOVE_MAXIMUM');
    expect(problem.detail).toContain('1000000.00');
    await t.api.get('/inventory/limit-price').expect(404);
    expect((await put('1000000.00').expect(200)).body).toMatchObject({ unitPrice: '1000000.00' });
  });

  it('fails an order whose total would overflow at once, with a reason and no dead letter', async () => {
    // Rows priced before the limit existed: the API no longer writes such a price.
    const catalog = t.app.get(CatalogRepository);
    const items = [];
    for (let i = 0; i < 10; i++) {
      await catalog.put(
        { productId: `yacht-${i}`, name: 'Yacht', unitPrice: 999_999_999_999, available: 1_000 },
        undefined,
        'test',
      );
      items.push({ productId: `yacht-${i}`, quantity: 1_000 });
    }
    const started = Date.now();
    const id = await placeOrder(t.api, items);
    const order = await settled(t.api, id, 10_000);
    // Well before any retry schedule or order deadline could have run out.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(order.status).toBe('FAILED');
    expect(order.totalAmount).toBeNull();
    expect(order.failureReason).toBe(
      'Order total 99999999999900.00 exceeds the maximum of 10000000.00',
    );
    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as OrderEvent[];
    expect(events.map((e) => e.type)).toEqual([
      'OrderCreated',
      'OrderValidated',
      'OrderFailed',
      'OrderFailureNotificationSent',
    ]);
    expect(events[1].payload).toMatchObject({ isValid: false });
    expect((await t.api.get('/admin/dead-letters').expect(200)).body).toEqual([]);
    expect((await t.api.get('/inventory/yacht-0').expect(200)).body).toMatchObject({
      available: 1_000,
      reserved: 0,
    });
  });

  it('fails an order that names a product priced above the maximum, even at a small total', async () => {
    await t.app
      .get(CatalogRepository)
      .put(
        { productId: 'old-price', name: 'Old', unitPrice: 500_000_000, available: 10 },
        undefined,
        'test',
      );
    const id = await placeOrder(t.api, [{ productId: 'old-price', quantity: 1 }]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('Unit price exceeds the maximum of 1000000.00: old-price');
  });

  it('still takes an order at the total limit', async () => {
    await t.api
      .put('/inventory/limit-total')
      .send({ name: 'Bulk', unitPrice: '10000.00', available: 1_000 })
      .expect(200);
    const id = await placeOrder(t.api, [{ productId: 'limit-total', quantity: 1_000 }]);
    const order = await settled(t.api, id);
    expect(order).toMatchObject({ status: 'COMPLETED', totalAmount: '10000000.00' });
    expect(await getOrder(t.api, id)).toMatchObject({ failureReason: null });
  });
});

describe('e-mails to customers', () => {
  const PHISHING = 'Re-enter your card at https://evil.example';

  it('never carry a cancel reason: fixed wording, while the history keeps the reason', async () => {
    await t.api
      .put('/inventory/mail-test')
      .send({ name: 'Mail', unitPrice: '1.00', available: 10 })
      .expect(200);
    const id = await placeOrder(t.api, [{ productId: 'mail-test', quantity: 1 }]);
    await t.api.post(`/orders/${id}/cancel`).send({ reason: PHISHING }).expect(200);
    const order = await settled(t.api, id);
    expect(order.status).toBe('CANCELLED');
    expect(order.failureReason).toBe(PHISHING);

    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as OrderEvent[];
    expect(events.find((e) => e.type === 'OrderCancelled')?.payload).toMatchObject({
      reason: PHISHING,
    });
    const notice = events.find((e) => e.type === 'OrderFailureNotificationSent');
    expect(JSON.stringify(notice?.payload)).not.toContain('evil.example');

    const [stored] = (await t.api.get('/notifications').query({ orderId: id }).expect(200))
      .body as Notification[];
    expect(stored.status).toBe('SENT');
    expect(JSON.stringify(stored)).not.toContain('evil.example');
    const mail = sent.filter((m) => m.messageId === stored.notificationId);
    expect(mail).toHaveLength(1);
    expect(mail[0].body).toBe(
      'Your order was cancelled. Nothing was charged, or the charge was refunded.',
    );
    expect(`${mail[0].subject} ${mail[0].body}`).not.toContain('evil.example');
  });

  it('say which kind of failure it was in fixed words, never the failure reason', async () => {
    const id = await placeOrder(t.api, [{ productId: 'no-such-product', quantity: 1 }]);
    const order = await settled(t.api, id);
    expect(order.failureReason).toBe('Unknown product: no-such-product');
    const [stored] = (await t.api.get('/notifications').query({ orderId: id }).expect(200))
      .body as Notification[];
    const mail = sent.find((m) => m.messageId === stored.notificationId);
    expect(mail?.body).toBe(
      'Your order could not be completed. Your order names a product we do not sell.',
    );
  });
});

describe('identifiers', () => {
  // Right-to-left override, first strong isolate, left-to-right mark, Arabic letter mark, NUL,
  // escape, DEL and a C1 control: each can make an id print as something it is not.
  const HOSTILE = ['\u202E', '\u2066', '\u200E', '\u061C', '\u0000', '\u001B', '\u007F', '\u0085'];
  const named = (c: string) => `evil${c}gpj.exe`;

  it.each(HOSTILE.map((c) => [c.codePointAt(0)!.toString(16), c]))(
    'refuses U+%s in productId, customerId, order ids and filters, naming the field',
    async (_code, c) => {
      const order = (items: unknown, customerId = 'customer-1') =>
        t.api.post('/orders').send({ customerId, items });
      const cases: Array<[request.Test, string]> = [
        [order([{ productId: named(c), quantity: 1 }]), 'items.0.productId'],
        [order([{ productId: 'product-1', quantity: 1 }], named(c)), 'customerId'],
        [t.api.get('/orders').query({ customerId: named(c) }), 'customerId'],
        [t.api.get(`/orders/${encodeURIComponent(named(c))}`), 'id'],
        [t.api.get(`/orders/${encodeURIComponent(named(c))}/events`), 'id'],
        [t.api.post(`/orders/${encodeURIComponent(named(c))}/cancel`).send({}), 'id'],
        [t.api.get('/notifications').query({ orderId: named(c) }), 'orderId'],
        [t.api.get('/payments').query({ orderId: named(c) }), 'orderId'],
      ];
      for (const [pending, field] of cases) {
        const problem = expectProblem(await pending, 400);
        expect(problem.errors).toEqual([
          {
            field,
            message: `${field.split('.').pop()} must not contain control or bidirectional formatting characters`,
          },
        ]);
      }
    },
  );

  it('takes printable ids in any script', async () => {
    const id = await placeOrder(t.api, [{ productId: 'produit-été', quantity: 1 }], 'клиент 42');
    const order = await settled(t.api, id);
    expect(order.failureReason).toBe('Unknown product: produit-été');
    const page = await t.api.get('/orders').query({ customerId: 'клиент 42' }).expect(200);
    expect((page.body as { items: Array<{ id: string }> }).items.map((o) => o.id)).toEqual([id]);
  });
});

describe('validation answers', () => {
  it('list at most 20 problems and say how many more there were', async () => {
    // 100 bad items (the most an order may have) and 400 unknown fields: 500 problems.
    const body: Record<string, unknown> = {
      customerId: 'customer-1',
      items: Array.from({ length: 100 }, (_, i) => ({ productId: `p-${i}`, quantity: 0 })),
    };
    for (let i = 0; i < 400; i++) body[`extra${i}`] = i;
    const problem = expectProblem(await t.api.post('/orders').send(body), 400);
    expect(problem.errors).toHaveLength(20);
    expect(problem.detail).toMatch(/; and 480 more not listed$/);
    expect(problem.detail.split('; ')).toHaveLength(21);
    expect(problem.errors?.[0]).toEqual({ field: 'extra0', message: 'extra0 should not exist' });
    const page = await t.api.get('/orders').query({ customerId: 'customer-1' });
    expect((page.body as { items: Array<{ items: unknown[] }> }).items).not.toContainEqual(
      expect.objectContaining({ items: expect.arrayContaining([{ productId: 'p-0' }]) }),
    );
  });

  it('list every problem when there are 20 or fewer', async () => {
    const items = Array.from({ length: 3 }, (_, i) => ({ productId: `p-${i}`, quantity: 0 }));
    const problem: Problem = expectProblem(
      await t.api.post('/orders').send({ customerId: 'customer-1', items }),
      400,
    );
    expect(problem.errors).toHaveLength(3);
    expect(problem.detail).not.toContain('more not listed');
  });
});

describe('security headers and timeouts', () => {
  it('sends the security headers on answers and on errors, and no X-Powered-By', async () => {
    for (const response of [
      await t.api.get('/inventory').expect(200),
      await t.api.get('/orders/unknown').expect(404),
      await t.api.post('/orders').set('content-type', 'text/plain').send('x').expect(415),
    ]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age=') as unknown,
        'content-security-policy': expect.stringContaining("default-src 'self'") as unknown,
      });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('still serves the Swagger UI: its scripts are files the policy allows', async () => {
    const page = await t.api.get('/docs').redirects(1).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    // No inline script, which script-src 'self' would block: every one is loaded from /docs.
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) {
      const src = /src="([^"]+)"/.exec(attributes)?.[1];
      expect(src).toBeDefined();
      await t.api.get(new URL(src!, 'http://host/docs').pathname).expect(200);
    }
    await t.api.get('/docs-json').expect(200);
  });

  it('bounds how long a client may take to send a request', () => {
    const server = t.app.getHttpServer() as Server;
    expect(server.requestTimeout).toBe(30_000);
    expect(server.headersTimeout).toBe(20_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });
});
