import { gzipSync } from 'node:zlib';
import { removeTempDatabases } from './create-test-app.js';
import {
  allOrders,
  ARRAYS,
  expectRawProblem,
  inventory,
  JSON_TYPE,
  nested,
  order,
  post,
  rawItemField,
  RefusalProbe,
} from './support/hostile-requests.js';
import type { RawRequest } from './support/raw-http.js';

/**
 * Hostile encodings and content types, queries and paths of GET /orders, and bodies of
 * PUT /inventory/{productId}. Each must get a 4xx application/problem+json (never a 5xx) and
 * change nothing. Requests go out as raw bytes (test/support/raw-http.ts).
 */

afterAll(() => removeTempDatabases());

describe('POST /orders, GET /orders and PUT /inventory refuse hostile requests', () => {
  const probe = new RefusalProbe();

  beforeAll(() => probe.start());

  afterAll(() => probe.close());

  describe('encodings and content types', () => {
    const latin1Order = Buffer.from(
      '{"customerId":"caf\xe9","items":[{"productId":"product-1","quantity":1}]}',
      'latin1',
    );

    it.each<[string, RawRequest, number, RegExp]>([
      [
        'latin1 bytes sent with charset=latin1',
        post(latin1Order, { 'content-type': 'application/json; charset=latin1' }),
        415,
        /encoding is not supported/,
      ],
      [
        'latin1 bytes sent with charset=iso-8859-1',
        post(latin1Order, { 'content-type': 'application/json; charset=iso-8859-1' }),
        415,
        /encoding is not supported/,
      ],
      [
        'an unknown charset',
        post(order({}), { 'content-type': 'application/json; charset=bogus' }),
        415,
        /encoding is not supported/,
      ],
      [
        'UTF-8 bytes declared as charset=utf-16',
        post(order({}), { 'content-type': 'application/json; charset=utf-16' }),
        400,
        /not valid JSON/,
      ],
      [
        'latin1 bytes declared as charset=utf-16',
        post(latin1Order, { 'content-type': 'application/json; charset=utf-16' }),
        400,
        /not valid (JSON|UTF-8)/,
      ],
      [
        'UTF-8 bytes declared as charset=utf-32',
        post(order({}), { 'content-type': 'application/json; charset=utf-32' }),
        400,
        /not valid JSON/,
      ],
      [
        'an unknown Content-Encoding',
        post(order({}), { ...JSON_TYPE, 'content-encoding': 'bogus' }),
        415,
        /encoding is not supported/,
      ],
      [
        'Content-Encoding gzip on a body that is not gzip',
        post(order({}), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
        400,
        /./,
      ],
      [
        'a gzip body that inflates to an invalid order',
        post(gzipSync(order({ customerId: 5 })), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
        400,
        /customerId must be a string/,
      ],
    ])('answers %s with the status it deserves', async (_name, request, status, detail) => {
      const problem = await probe.refused(request, status);
      expect(problem.detail).toMatch(detail);
    });

    it.each<[string, RawRequest]>([
      ['a body without Content-Type', post(order({}), {})],
      ['a chunked body without Content-Type', { ...post(order({}), {}), chunked: true }],
      ['text/plain', post(order({}), { 'content-type': 'text/plain' })],
      ['text/json', post(order({}), { 'content-type': 'text/json' })],
      [
        'application/x-www-form-urlencoded',
        post('customerId=c&items[0][productId]=product-1&items[0][quantity]=1', {
          'content-type': 'application/x-www-form-urlencoded',
        }),
      ],
      [
        'multipart/form-data',
        post('--x\r\nContent-Disposition: form-data; name="customerId"\r\n\r\nc\r\n--x--\r\n', {
          'content-type': 'multipart/form-data; boundary=x',
        }),
      ],
      [
        'application/xml',
        post('<order><customerId>c</customerId></order>', { 'content-type': 'application/xml' }),
      ],
      ['application/jsonx', post(order({}), { 'content-type': 'application/jsonx' })],
      ['application/octet-stream', post(order({}), { 'content-type': 'application/octet-stream' })],
    ])('answers 415 to %s', async (_name, request) => {
      const problem = await probe.refused(request, 415);
      expect(problem.detail).toMatch(/application\/json/);
    });

    // The checks that run before validation answer through the one exception filter: these are
    // their answers to the byte, headers included.
    it.each<[string, RawRequest, Record<string, unknown>]>([
      [
        'a body that is not JSON',
        post(order({}), { 'content-type': 'text/plain' }),
        {
          type: 'about:blank',
          title: 'Unsupported Media Type',
          status: 415,
          detail: 'Send the request body as application/json',
          instance: '/orders',
        },
      ],
      [
        'JSON that is not an object',
        post('[]'),
        {
          type: 'urn:problem:validation-error',
          title: 'Your request is not valid',
          status: 400,
          detail: 'the request body must be a JSON object',
          errors: [{ field: '', message: 'the request body must be a JSON object' }],
          instance: '/orders',
        },
      ],
      [
        'a field nested too deep',
        post(rawItemField('extra', nested(20, ...ARRAYS))),
        {
          type: 'urn:problem:validation-error',
          title: 'Your request is not valid',
          status: 400,
          detail: 'items.0.extra is nested deeper than 16 levels',
          errors: [
            { field: 'items.0.extra', message: 'items.0.extra is nested deeper than 16 levels' },
          ],
          instance: '/orders',
        },
      ],
    ])('answers %s with exactly its problem', async (_name, request, expected) => {
      const response = await probe.api.send(request);
      expect(response.status).toBe(expected.status);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.headers['retry-after']).toBeUndefined();
      expect(response.text).toBe(JSON.stringify(expected));
    });
  });

  describe('GET /orders with a hostile query or path', () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64url');

    it.each<[string, string]>([
      ['limit=1e308', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=NaN', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['status=BOGUS', 'status'],
      ['status=PENDING&status=FAILED', 'status'],
      ['status[]=PENDING', 'status[]'],
      [`customerId=${'c'.repeat(10_000)}`, 'customerId'],
      ['customerId[a]=1', 'customerId[a]'],
      [`cursor=${'a'.repeat(501)}`, 'cursor'],
      ['__proto__[polluted]=1', '__proto__[polluted]'],
      ['constructor[prototype][polluted]=1', 'constructor[prototype][polluted]'],
      ['unknown=1', 'unknown'],
    ])('answers 400 to ?%s, naming the parameter', async (query, field) => {
      const problem = await probe.refused({ path: `/orders?${query}` }, 400);
      expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    });

    it.each([
      'garbage',
      b64('{"createdAt":"2026-01-01T00:00:00.000Z","id":"x"}'),
      b64('null'),
      b64('[1,2]'),
      b64(nested(150, ...ARRAYS)),
    ])('answers 400 ORDER_INVALID_CURSOR to the forged cursor %s', async (cursor) => {
      const problem = await probe.refused({ path: `/orders?cursor=${cursor}` }, 400);
      expect(problem.code).toBe('ORDER_INVALID_CURSOR');
    });

    it.each([
      '/orders/%ff',
      '/orders/%',
      '/orders/%ff/events',
      `/orders/${'x'.repeat(101)}`,
      `/orders/${'x'.repeat(101)}/events`,
    ])('answers 400 to GET %s', async (path) => {
      await probe.refused({ path }, 400);
    });
  });

  describe('PUT /inventory/{productId}', () => {
    const base = { name: 'Widget', unitPrice: '50.00', available: 7 };
    const put = (
      productId: string,
      body: string | Buffer,
      headers: Record<string, string> = JSON_TYPE,
    ): RawRequest => ({
      method: 'PUT',
      path: `/inventory/${productId}`,
      headers,
      body,
    });
    const field = (patch: Record<string, unknown>): string => JSON.stringify({ ...base, ...patch });

    it.each<[string, RawRequest, number, string | undefined]>([
      ['malformed JSON', put('product-1', '{"name":"Widget",'), 400, undefined],
      ['available "5"', put('product-1', field({ available: '5' })), 400, 'available'],
      [
        'available 1e308',
        put('product-1', '{"name":"Widget","unitPrice":"50.00","available":1e308}'),
        400,
        'available',
      ],
      ['available 1.5', put('product-1', field({ available: 1.5 })), 400, 'available'],
      ['available null', put('product-1', field({ available: null })), 400, 'available'],
      ['available -1', put('product-1', field({ available: -1 })), 400, 'available'],
      [
        'unitPrice 12.5 as a number',
        put('product-1', field({ unitPrice: 12.5 })),
        400,
        'unitPrice',
      ],
      ['unitPrice "1e3"', put('product-1', field({ unitPrice: '1e3' })), 400, 'unitPrice'],
      ['unitPrice "-1.00"', put('product-1', field({ unitPrice: '-1.00' })), 400, 'unitPrice'],
      ['unitPrice "NaN"', put('product-1', field({ unitPrice: 'NaN' })), 400, 'unitPrice'],
      ['unitPrice " 1.00"', put('product-1', field({ unitPrice: ' 1.00' })), 400, 'unitPrice'],
      [
        'a name of 10,000 characters',
        put('product-1', field({ name: 'n'.repeat(10_000) })),
        400,
        'name',
      ],
      ['name {}', put('product-1', field({ name: {} })), 400, 'name'],
      ['name ""', put('product-1', field({ name: '' })), 400, 'name'],
      ['an unknown field reserved', put('product-1', field({ reserved: 0 })), 400, 'reserved'],
      ['an unknown field sold', put('product-1', field({ sold: 1000 })), 400, 'sold'],
      [
        'a new product with a wrong type',
        put('hostile-product', field({ available: '5' })),
        400,
        'available',
      ],
      ['a productId of 1,000 characters', put('p'.repeat(1000), field({})), 400, 'productId'],
      ['the productId "bad id!"', put(encodeURIComponent('bad id!'), field({})), 400, 'productId'],
      ['text/plain', put('product-1', field({}), { 'content-type': 'text/plain' }), 415, undefined],
      ['no Content-Type', put('product-1', field({}), {}), 415, undefined],
      [
        'a body over 100 kB',
        put('product-1', field({ name: 'n'.repeat(101 * 1024) })),
        413,
        undefined,
      ],
      [
        'charset=latin1',
        put('product-1', field({}), { 'content-type': 'application/json; charset=latin1' }),
        415,
        undefined,
      ],
    ])('answers %s with a 4xx and leaves the stock alone', async (_name, request, status, name) => {
      const problem = await probe.refused(request, status);
      if (name !== undefined) expect(problem.errors?.map((e) => e.field)).toEqual([name]);
      expectRawProblem(await probe.api.send({ path: '/inventory/hostile-product' }), 404);
    });
  });

  it('stored no order and left the inventory as seeded', async () => {
    expect(probe.seeded.map((p) => p.productId)).toEqual(['product-1', 'product-2', 'product-3']);
    expect(await allOrders(probe.api)).toEqual([]);
    expect(await inventory(probe.api)).toEqual(probe.seeded);
  });
});
