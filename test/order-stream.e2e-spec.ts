import type { AddressInfo } from 'node:net';
import {
  ADMIN_SUB,
  createTestApp,
  eventually,
  expectProblem,
  placeOrder,
  removeTempDatabases,
  tempDatabaseUrl,
  type TestApp,
  COMPLETED_TWO_LINE_TRAIL,
} from './create-test-app.js';
import { mintToken } from './support/tokens.js';
import type { Role } from '../src/auth/principal.js';
import { EventTransport } from '../src/durable-cqrs/event-transport.js';

interface StreamMessage {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

interface StreamResult {
  status: number;
  headers: Headers;
  messages: StreamMessage[];
  comments: string[];
  /** The raw body, for problem+json answers. */
  text: string;
}

/** Parses a text/event-stream body into its messages and comments. */
function parseEventStream(text: string): Pick<StreamResult, 'messages' | 'comments'> {
  const messages: StreamMessage[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
    }
    if (fields.data === undefined) continue;
    messages.push({
      event: fields.event ?? 'message',
      id: fields.id,
      data: JSON.parse(fields.data) as Record<string, unknown>,
    });
  }
  return { messages, comments };
}

/** Opens GET /orders/{id}/stream with a real HTTP client; resolves once the headers arrived. */
async function openStream(
  base: string,
  id: string,
  { sub = ADMIN_SUB, role = 'admin' as Role, headers = {} as Record<string, string> } = {},
  timeoutMs = 20_000,
): Promise<Response> {
  const token = await mintToken({ role, sub });
  return fetch(`${base}/orders/${id}/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/** Reads the body chunk by chunk until the server ends the response. */
async function readToEnd(response: Response): Promise<StreamResult> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
  }
  return { status: response.status, headers: response.headers, text, ...parseEventStream(text) };
}

async function readStream(
  base: string,
  id: string,
  options?: Parameters<typeof openStream>[2],
): Promise<StreamResult> {
  return readToEnd(await openStream(base, id, options));
}

function eventMessages(result: StreamResult): StreamMessage[] {
  return result.messages.filter((m) => m.event !== 'status');
}

function statuses(result: StreamResult): string[] {
  return result.messages.filter((m) => m.event === 'status').map((m) => m.data.status as string);
}

async function listen(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

afterAll(() => removeTempDatabases());

describe('GET /orders/{id}/stream', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ config: { streamKeepAliveMs: 100 } });
    base = await listen(t);
  });
  afterAll(() => t.close());

  it('sends every event in order, then the status changes, and ends after the notification', async () => {
    const id = await placeOrder(t.api, [
      { productId: 'product-1', quantity: 1 },
      { productId: 'product-2', quantity: 1 },
    ]);
    const result = await readStream(base, id);
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(result.headers.get('cache-control')).toContain('no-transform');
    expect(result.headers.get('content-encoding')).toBeNull();

    const events = eventMessages(result);
    expect(events.map((m) => m.event)).toEqual(COMPLETED_TWO_LINE_TRAIL);
    const seqs = events.map((m) => Number(m.id));
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);
    // The data is the event as GET /orders/{id}/events shows it, plus the status after it.
    const history = (await t.api.get(`/orders/${id}/events`).expect(200)).body as Array<
      Record<string, unknown>
    >;
    expect(events.map(({ data: { status: _status, ...event } }) => event)).toEqual(
      history.filter((e) => events.some((m) => m.data.seq === e.seq)),
    );
    expect(events.map((m) => m.data.seq)).toEqual(seqs);
    expect(events.at(-1)!.data.status).toBe('COMPLETED');
    expect(statuses(result)).toEqual([
      'PENDING',
      'VALIDATED',
      'INVENTORY_RESERVED',
      'PAYMENT_PROCESSING',
      'COMPLETED',
    ]);
  });

  it('ends with FAILED and the failure notice for an unknown product', async () => {
    const id = await placeOrder(t.api, [{ productId: 'no-such-product', quantity: 1 }]);
    const result = await readStream(base, id);
    const types = eventMessages(result).map((m) => m.event);
    expect(types[0]).toBe('OrderCreated');
    expect(types).toContain('OrderFailed');
    expect(types.at(-1)).toBe('OrderFailureNotificationSent');
    expect(statuses(result)).toEqual(['PENDING', 'FAILED']);
  });

  it('resumes after Last-Event-ID with only the later events', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    const full = eventMessages(await readStream(base, id));
    const resumeAt = full[3];
    const rest = await readStream(base, id, { headers: { 'last-event-id': resumeAt.id! } });
    expect(eventMessages(rest).map((m) => m.id)).toEqual(full.slice(4).map((m) => m.id));
    expect(eventMessages(rest).map((m) => m.event)).toEqual(full.slice(4).map((m) => m.event));
    // Status messages only for changes after the resumed event.
    expect(statuses(rest)).toEqual(['PAYMENT_PROCESSING', 'COMPLETED']);

    const after = await readStream(base, id, { headers: { 'last-event-id': full.at(-1)!.id! } });
    expect(after.status).toBe(200);
    expect(after.messages).toEqual([]);
  });

  it("serves a customer its own order's stream and another customer's as unknown", async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }], 'customer-s1');
    const own = await readStream(base, id, { sub: 'customer-s1', role: 'customer' });
    expect(own.status).toBe(200);
    expect(eventMessages(own).at(-1)!.event).toBe('OrderConfirmationSent');

    const other = await (await t.as('customer-s2')).get(`/orders/${id}/stream`);
    expectProblem(other, 404);
  });

  it('answers 404 problem+json for an unknown order, before any stream', async () => {
    const response = await t.api.get('/orders/00000000-0000-4000-8000-000000000000/stream');
    expectProblem(response, 404);
  });
});

describe('GET /orders/{id}/stream limits', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({
      config: { paymentLatencyMs: 3000, streamMaxMs: 600, streamKeepAliveMs: 100, streamLimit: 1 },
    });
    base = await listen(t);
  });
  afterAll(() => t.close());

  it('keeps an idle stream alive, ends it at STREAM_MAX_MS and refuses streams past the limit', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    const started = Date.now();
    const first = await openStream(base, id);
    expect(first.status).toBe(200);
    // The one allowed stream is open: the next is refused.
    const refused = await t.api.get(`/orders/${id}/stream`);
    expectProblem(refused, 503);
    expect(refused.headers['retry-after']).toBeDefined();

    const result = await readToEnd(first);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(2500);
    expect(result.comments.length).toBeGreaterThan(0);
    // The payment takes 3 s: the stream ended at its maximum life, before the order finished.
    const types = eventMessages(result).map((m) => m.event);
    expect(types).toContain('PaymentInitiated');
    expect(types).not.toContain('OrderCompleted');
  });
});

describe("GET /orders/{id}/stream: one principal's share", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({
      config: {
        paymentLatencyMs: 3000,
        streamMaxMs: 5000,
        streamLimit: 10,
        streamLimitPerPrincipal: 2,
      },
    });
    base = await listen(t);
  });
  afterAll(() => t.close());

  it('refuses a principal its third stream (429) while others still get theirs', async () => {
    const mine = { sub: 'customer-share', role: 'customer' as Role };
    const ids = await Promise.all(
      [1, 2, 3].map(() => placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }], mine.sub)),
    );
    const held = await Promise.all(ids.slice(0, 2).map((id) => openStream(base, id, mine)));
    expect(held.map((response) => response.status)).toEqual([200, 200]);

    const third = await openStream(base, ids[2], mine);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBeDefined();
    expect(third.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await third.json()) as { code: string }).code).toBe('TOO_MANY_STREAMS');

    // An admin is another principal.
    const other = await openStream(base, ids[2]);
    expect(other.status).toBe(200);
    await other.body?.cancel();

    // A stream given back frees a place.
    await held[0].body?.cancel();
    const again = await eventually(
      async () => {
        const response = await openStream(base, ids[2], mine);
        if (response.status !== 200) await response.body?.cancel();
        return response;
      },
      (response) => response.status === 200,
      { timeoutMs: 5000, what: 'a closed stream to be given back' },
    );
    expect(again.status).toBe(200);
    await again.body?.cancel();
    await held[1].body?.cancel();
  });
});

describe('GET /orders/{id}/stream at shutdown', () => {
  it('ends the open streams, so the server closes without waiting for them', async () => {
    const t = await createTestApp({ config: { paymentLatencyMs: 3000 } });
    const base = await listen(t);
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    const open = await openStream(base, id);
    const started = Date.now();
    await t.close();
    const result = await readToEnd(open);
    // Without it, the server would wait for the stream's STREAM_MAX_MS (5 minutes).
    expect(Date.now() - started).toBeLessThan(t.config.shutdownTimeoutMs);
    expect(eventMessages(result)[0].event).toBe('OrderCreated');
  }, 20_000);
});

// PostgreSQL: two instances on one database. Without a broker the first delivers and the second
// stands by, so every event after OrderCreated is committed by the other instance; with RabbitMQ
// both deliver. Either way the stream and the wait must follow the database, not local commits.
if (process.env.TEST_DATABASE_URL) {
  describe('two instances on one database', () => {
    it('a stream and Prefer: wait on one instance see what the other commits', async () => {
      const databaseUrl = await tempDatabaseUrl();
      const first = await createTestApp({ config: { databaseUrl } });
      const second = await createTestApp({ config: { databaseUrl, streamPollMs: 100 } });
      try {
        if (!process.env.TEST_AMQP_URL) {
          expect(first.app.get(EventTransport).role).toBe('delivering');
          expect(second.app.get(EventTransport).role).toBe('standing by');
        }
        const base = await listen(second);
        const id = await placeOrder(second.api, [{ productId: 'product-1', quantity: 1 }]);
        const result = await readStream(base, id);
        expect(eventMessages(result).at(-1)!.event).toBe('OrderConfirmationSent');
        expect(statuses(result).at(-1)).toBe('COMPLETED');

        const waited = await second.api
          .post('/orders')
          .set('prefer', 'wait=10')
          .send({ customerId: 'customer-x', items: [{ productId: 'product-2', quantity: 1 }] })
          .expect(201);
        expect((waited.body as { status: string }).status).toBe('COMPLETED');
      } finally {
        await second.close();
        await first.close();
      }
    });
  });
}

describe('POST /orders with Prefer: wait', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const body = {
    customerId: 'customer-w',
    customerEmail: 'w@example.com',
    items: [{ productId: 'product-1', quantity: 1 }],
  };

  it('answers 201 with the finished order when it finishes in time', async () => {
    const response = await t.api.post('/orders').set('prefer', 'wait=10').send(body).expect(201);
    expect(response.body).toEqual(expect.objectContaining({ status: 'COMPLETED' }));
    expect(response.headers['preference-applied']).toBe('wait=10');
    expect(response.headers.location).toBe(`/orders/${(response.body as { id: string }).id}`);
  });

  it('caps the wait at 30 seconds, ignores a malformed one and keeps idempotent replays', async () => {
    const capped = await t.api.post('/orders').set('prefer', 'wait=600').send(body).expect(201);
    expect(capped.headers['preference-applied']).toBe('wait=30');

    const ignored = await t.api.post('/orders').set('prefer', 'wait=soon').send(body).expect(202);
    expect(ignored.headers['preference-applied']).toBeUndefined();

    const first = await t.api
      .post('/orders')
      .set('idempotency-key', 'prefer-wait-replay')
      .set('prefer', 'wait=10')
      .send(body)
      .expect(201);
    const again = await t.api
      .post('/orders')
      .set('idempotency-key', 'prefer-wait-replay')
      .set('prefer', 'wait=10')
      .send(body)
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((again.body as { id: string }).id).toBe((first.body as { id: string }).id);
    expect(again.body).toEqual(expect.objectContaining({ status: 'COMPLETED' }));
  });
});

describe('POST /orders with Prefer: wait and a slow payment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ config: { paymentLatencyMs: 3000 } });
  });
  afterAll(() => t.close());

  it('answers 202 after about the wait when the order is not finished by then', async () => {
    const started = Date.now();
    const response = await t.api
      .post('/orders')
      .set('prefer', 'wait=1')
      .send({ customerId: 'customer-w', items: [{ productId: 'product-1', quantity: 1 }] })
      .expect(202);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2500);
    expect(response.headers['preference-applied']).toBe('wait=1');
    expect((response.body as { status: string }).status).toBe('PENDING');
  });
});
