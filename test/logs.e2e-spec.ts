import request from 'supertest';
import { parseTraceparent, traceIdOf } from '../src/durable-cqrs/trace-context.js';
import type { OrderEvent } from './api-types.js';
import {
  createTestApp,
  eventually,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';
import { capture } from './support/log-capture.js';
import { mintToken, TEST_JWT_SECRET } from './support/tokens.js';

const ITEMS = [{ productId: 'product-1', quantity: 1 }];
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

afterAll(() => removeTempDatabases());

describe('logs and tracing', () => {
  let t: TestApp;
  const logs = capture();
  const customer = 'customer-logs';
  let token: string;

  beforeAll(async () => {
    t = await createTestApp({ logs: logs.destination });
    token = await mintToken({ sub: customer, role: 'customer' });
  });
  afterAll(() => t.close());

  /** Places an order as the customer, with a token of our own (to look for it in the logs). */
  async function place(headers: Record<string, string> = {}) {
    const response = await request(t.http)
      .post('/orders')
      .set({ authorization: `Bearer ${token}`, ...headers })
      .send({ customerId: customer, customerEmail: 'ada@example.com', items: ITEMS })
      .expect(202);
    return { response, id: (response.body as { id: string }).id };
  }

  it('writes every line as JSON with level, time, context and message', async () => {
    await t.api.get('/inventory').expect(200);
    const lines = logs.lines();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({
          level: expect.any(String) as unknown,
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
          msg: expect.any(String) as unknown,
        }),
      );
    }
    // Nest's own lines (the routes it mapped) go through the same logger, with their class.
    expect(lines.some((line) => line.context === 'RouterExplorer')).toBe(true);
  });

  it('writes a request line with the route template, status, duration and principal', async () => {
    const { id, response } = await place();
    await request(t.http).get(`/orders/${id}`).set('authorization', `Bearer ${token}`).expect(200);
    const correlationId = response.headers['x-correlation-id'] as string;
    const line = await eventually(
      () =>
        Promise.resolve(logs.lines().find((l) => l.msg === 'request' && l.route === '/orders/:id')),
      (found) => found !== undefined,
      { what: 'the request line of GET /orders/:id' },
    );
    expect(line).toMatchObject({ method: 'GET', status: 200, sub: customer, context: 'HTTP' });
    expect(typeof line!.durationMs).toBe('number');
    const post = logs
      .lines()
      .find((l) => l.msg === 'request' && l.method === 'POST' && l.correlationId === correlationId);
    expect(post).toMatchObject({ route: '/orders', status: 202, sub: customer });
  });

  it('carries the correlation id of the request to the final notification, on every line', async () => {
    const correlationId = 'logs-correlation-1';
    const { id, response } = await place({ 'X-Correlation-Id': correlationId });
    expect(response.headers['x-correlation-id']).toBe(correlationId);
    await settled(t.api, id);
    const finalDelivery = await eventually(
      () =>
        Promise.resolve(
          logs
            .lines()
            .find(
              (l) =>
                l.msg === 'delivery' &&
                l.subscriber === 'NotifyCustomerHandler' &&
                l.streamId === id,
            ),
        ),
      (found) => found !== undefined,
      { what: 'the delivery line of the final notification' },
    );
    expect(finalDelivery).toMatchObject({
      outcome: 'DONE',
      eventType: 'OrderCompleted',
      correlationId,
      context: 'DeliveryLog',
    });
    expect(typeof finalDelivery!.durationMs).toBe('number');
    expect(typeof finalDelivery!.eventId).toBe('string');
    const ofOrder = logs.lines().filter((l) => l.streamId === id);
    // The saga, payment, inventory and notification steps each left a delivery line.
    expect(ofOrder.length).toBeGreaterThanOrEqual(5);
    for (const line of ofOrder) expect(line.correlationId).toBe(correlationId);
    expect(logs.lines().some((l) => l.msg === 'request' && l.correlationId === correlationId)).toBe(
      true,
    );
  });

  it('gives every event of an order the trace of the request, and answers its own span', async () => {
    const { id, response } = await place({ traceparent: TRACEPARENT });
    const answered = parseTraceparent(response.headers.traceparent as string);
    expect(answered).toMatchObject({ traceId: TRACE_ID, flags: '01' });
    expect(answered!.spanId).not.toBe('00f067aa0ba902b7');
    await settled(t.api, id);
    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as OrderEvent[];
    expect(events.length).toBeGreaterThanOrEqual(5);
    const spans = new Set<string>();
    for (const event of events) {
      const trace = parseTraceparent(event.traceparent ?? undefined);
      expect(trace?.traceId).toBe(TRACE_ID);
      spans.add(trace!.spanId);
    }
    // Each event is a span of its own.
    expect(spans.size).toBe(events.length);
    const ofOrder = logs.lines().filter((l) => l.streamId === id);
    expect(ofOrder.length).toBeGreaterThan(0);
    for (const line of ofOrder) expect(line.traceId).toBe(TRACE_ID);
    const post = logs
      .lines()
      .find((l) => l.msg === 'request' && l.correlationId === response.headers['x-correlation-id']);
    expect(post?.traceId).toBe(TRACE_ID);
  });

  it('starts a new trace when the traceparent is not valid', async () => {
    const { id, response } = await place({
      traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    });
    const answered = parseTraceparent(response.headers.traceparent as string);
    expect(answered).toBeDefined();
    expect(answered!.traceId).not.toBe('0'.repeat(32));
    await settled(t.api, id);
    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as OrderEvent[];
    for (const event of events) expect(traceIdOf(event.traceparent!)).toBe(answered!.traceId);
  });

  it('never writes a token or the signing secret', async () => {
    // A refused token is not logged either.
    await request(t.http)
      .get('/orders')
      .set('authorization', 'Bearer not-a-real-token')
      .expect(401);
    await eventually(
      () => Promise.resolve(logs.lines().some((l) => l.msg === 'request' && l.status === 401)),
      Boolean,
      { what: 'the request line of the refused request' },
    );
    const all = logs.raw.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain('not-a-real-token');
    expect(all).not.toContain(TEST_JWT_SECRET);
    expect(all.toLowerCase()).not.toContain('bearer');
  });
});

describe('LOG_LEVEL=error', () => {
  let t: TestApp;
  const logs = capture();

  beforeAll(async () => {
    t = await createTestApp({ logs: logs.destination, config: { logLevel: 'error' } });
  });
  afterAll(() => t.close());

  it('writes no request or delivery lines', async () => {
    const response = await t.api
      .post('/orders')
      .send({ customerId: 'customer-quiet', items: ITEMS })
      .expect(202);
    const id = (response.body as { id: string }).id;
    await settled(t.api, id);
    await t.api.get(`/orders/${id}`).expect(200);
    expect(logs.lines().filter((l) => l.level !== 'error' && l.level !== 'fatal')).toEqual([]);
    expect(logs.lines().some((l) => l.msg === 'request' || l.msg === 'delivery')).toBe(false);
  });
});
