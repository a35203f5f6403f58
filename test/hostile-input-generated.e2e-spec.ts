import fc from 'fast-check';
import { eventually, removeTempDatabases, TERMINAL } from './create-test-app.js';
import type { OrderView, Problem } from './api-types.js';
import {
  almostValidArb,
  anyBodyArb,
  BOUNDARY_BODIES,
  CONTENT_TYPES,
  CORRELATION_ID,
  headerChar,
  validOrderArb,
  verdictOfText,
  visibleAscii,
} from './support/hostile-arbitraries.js';
import { allOrders, expectRawProblem, inventory, post, UUID } from './support/hostile-requests.js';
import {
  describeResponse,
  startRawApi,
  type RawApi,
  type RawRequest,
  type RawResponse,
} from './support/raw-http.js';

/**
 * POST /orders under thousands of requests generated with fast-check (test/support/
 * hostile-arbitraries.ts): never a 5xx, a 202 or 400 where the contract decides, nothing stored
 * when refused, and every accepted order settles.
 */

afterAll(() => removeTempDatabases());

describe('POST /orders under thousands of generated requests', () => {
  let api: RawApi;
  /** Ids of the orders answered 202 (a replayed Idempotency-Key gives an id again). */
  const accepted = new Set<string>();
  let generated = 0;

  beforeAll(async () => {
    api = await startRawApi();
  });

  afterAll(async () => {
    await api.close();
  });

  /** Sends one generated request and checks the answer; returns it. */
  async function sendChecked(request: RawRequest): Promise<RawResponse> {
    generated++;
    const response = await api.send(request);
    if (response.status >= 500) throw new Error(`5xx: ${describeResponse(response)}`);
    if (response.status === 202) {
      expect(response.headers['content-type']).toMatch(/^application\/json\b/);
      const { id } = JSON.parse(response.text) as OrderView;
      expect(id).toMatch(UUID);
      expect(response.headers.location).toBe(`/orders/${id}`);
      accepted.add(id);
    } else {
      expectRawProblem(response);
    }
    return response;
  }

  /** Runs a property and checks that the stored orders grew by exactly the new accepted ids. */
  async function countingOrders(run: () => Promise<void>): Promise<void> {
    const [storedBefore, acceptedBefore] = [(await allOrders(api)).length, accepted.size];
    await run();
    const storedAfter = (await allOrders(api)).length;
    expect(storedAfter - storedBefore).toBe(accepted.size - acceptedBefore);
  }

  it('never answers 5xx to arbitrary bodies, and refuses everything that is not a valid order', async () => {
    await countingOrders(() =>
      fc.assert(
        fc.asyncProperty(anyBodyArb, async (body) => {
          const response = await sendChecked(post(body));
          const expected = verdictOfText(Buffer.isBuffer(body) ? body.toString('utf8') : body);
          if (expected === 'invalid') expect(response.status).toBe(400);
          if (expected === 'valid') expect(response.status).toBe(202);
        }),
        { numRuns: 1000 },
      ),
    );
  });

  it('answers almost valid orders with 202 or 400 as the contract says, never 5xx', async () => {
    await countingOrders(() =>
      fc.assert(
        fc.asyncProperty(almostValidArb, async (body) => {
          const text = JSON.stringify(body);
          const response = await sendChecked(post(text));
          const expected = verdictOfText(text);
          if (expected === 'invalid') {
            expect(response.status).toBe(400);
            expect((JSON.parse(response.text) as Problem).errors?.length).toBeGreaterThan(0);
          }
          if (expected === 'valid') expect(response.status).toBe(202);
        }),
        { numRuns: 1200, examples: BOUNDARY_BODIES.map((body) => [body]) },
      ),
    );
  });

  it('never answers 5xx to random headers, and echoes only a well-formed X-Correlation-Id', async () => {
    const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const headersArb = fc.record({
      contentType: optional(
        fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.string({ unit: headerChar, maxLength: 60 })),
      ),
      idempotencyKey: optional(
        fc.oneof(
          fc.constantFrom('key-1', 'key-2', ' key-1 '),
          fc.string({ unit: visibleAscii, minLength: 1, maxLength: 40 }),
          fc.string({ unit: headerChar, maxLength: 40 }),
          fc.string({ unit: visibleAscii, minLength: 250, maxLength: 300 }),
        ),
      ),
      correlationId: optional(
        fc.oneof(
          fc.stringMatching(CORRELATION_ID),
          fc.string({ unit: visibleAscii, minLength: 1, maxLength: 120 }),
          fc.string({ unit: headerChar, maxLength: 60 }),
          fc.string({ unit: visibleAscii, minLength: 1000, maxLength: 4000 }),
          fc.constantFrom('a'.repeat(100), 'a'.repeat(101), 'caf\xe9', 'x\ty', ' padded '),
        ),
      ),
      accept: optional(
        fc.constantFrom('application/json', 'text/html', 'application/xml', '*/*', 'image/png'),
      ),
      chunked: fc.boolean(),
    });
    const bodyArb = fc.oneof(
      validOrderArb.map((body) => JSON.stringify(body)),
      almostValidArb.map((body) => JSON.stringify(body)),
      fc.string({ maxLength: 40 }),
      fc.constant(''),
    );
    await countingOrders(() =>
      fc.assert(
        fc.asyncProperty(headersArb, bodyArb, async (h, body) => {
          const headers: Record<string, string> = {};
          if (h.contentType !== undefined) headers['content-type'] = h.contentType;
          if (h.idempotencyKey !== undefined) headers['idempotency-key'] = h.idempotencyKey;
          if (h.correlationId !== undefined) headers['x-correlation-id'] = h.correlationId;
          if (h.accept !== undefined) headers.accept = h.accept;
          const response = await sendChecked({ ...post(body, headers), chunked: h.chunked });
          const given = h.correlationId?.replace(/^[ \t]+|[ \t]+$/g, '');
          if (given !== undefined && CORRELATION_ID.test(given)) {
            expect(response.headers['x-correlation-id']).toBe(given);
          } else {
            expect(response.headers['x-correlation-id']).toMatch(UUID);
          }
        }),
        { numRuns: 800 },
      ),
    );
  });

  it('sent 3,000 generated requests, and every accepted order reaches a final status', async () => {
    expect(generated).toBeGreaterThanOrEqual(3000);
    expect(accepted.size).toBeGreaterThan(0);
    const orders = await eventually(
      () => allOrders(api),
      (all) => all.every((o) => TERMINAL.includes(o.status)),
      { timeoutMs: 30_000, what: 'every accepted order to settle' },
    );
    expect(new Set(orders.map((o) => o.id))).toEqual(accepted);
    const stock = await eventually(
      () => inventory(api),
      (products) => products.every((p) => p.reserved === 0),
      { what: 'reservations to be committed or released' },
    );
    for (const product of stock) {
      expect(product.available).toBeGreaterThanOrEqual(0);
      expect(product.sold).toBeGreaterThanOrEqual(0);
    }
  });
});
