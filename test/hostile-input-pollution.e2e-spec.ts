import { removeTempDatabases, settled } from './create-test-app.js';
import type { OrderPage, OrderView } from './api-types.js';
import {
  expectRawProblem,
  getJson,
  inventory,
  JSON_TYPE,
  post,
  rawItemField,
  rawTop,
  VALID_ORDER,
  withItem,
} from './support/hostile-requests.js';
import { startRawApi, type RawApi } from './support/raw-http.js';

/**
 * Prototype pollution through bodies and queries: the application runs in the test's process, so
 * a polluted Object.prototype would show here. Requests go out as raw bytes
 * (test/support/raw-http.ts).
 */

afterAll(() => removeTempDatabases());

describe('prototype pollution', () => {
  let api: RawApi;

  beforeAll(async () => {
    api = await startRawApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const POLLUTING_BODIES = [
    rawTop('__proto__', '{"polluted":true}'),
    rawTop('constructor', '{"prototype":{"polluted":true}}'),
    rawTop('prototype', '{"polluted":true}'),
    rawItemField('__proto__', '{"polluted":true}'),
    rawItemField('constructor', '{"prototype":{"polluted":true}}'),
    rawItemField('prototype', '{"polluted":true}'),
    '{"__proto__":{"customerId":"customer-1","items":[{"productId":"product-1","quantity":1}]}}',
    '{"customerId":"c","items":[{"__proto__":{"productId":"product-1","quantity":1}}]}',
    '{"customerId":"c","items":{"__proto__":[],"length":1,"0":{"productId":"product-1","quantity":1}}}',
  ];

  it('leaves Object.prototype alone and the server working normally', async () => {
    for (const body of POLLUTING_BODIES) {
      const response = await api.send(post(body));
      expect(response.status).toBeLessThan(500);
    }
    for (const body of [
      '{"name":"Widget","unitPrice":"50.00","available":100,"__proto__":{"polluted":true}}',
      '{"name":"Widget","unitPrice":"50.00","available":100,"constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const response = await api.send({
        method: 'PUT',
        path: '/inventory/product-1',
        headers: JSON_TYPE,
        body,
      });
      expect(response.status).toBeLessThan(500);
    }
    for (const query of [
      '__proto__[polluted]=true',
      'constructor[prototype][polluted]=true',
      '__proto__.polluted=true',
    ]) {
      expect((await api.send({ path: `/orders?${query}` })).status).toBeLessThan(500);
    }
    // The application runs in this process: a polluted prototype would show here.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
    expect(Object.keys(Object.prototype)).toEqual([]);

    // And the server still answers as it should.
    const placed = await api.send(
      post(JSON.stringify({ ...VALID_ORDER, customerId: 'after-pollution' })),
    );
    expect(placed.status).toBe(202);
    const { id } = JSON.parse(placed.text) as OrderView;
    expect((await settled(api.t.api, id)).status).toBe('COMPLETED');
    const invalid = expectRawProblem(await api.send(post(withItem({ quantity: '2' }))), 400);
    expect(invalid.errors).toEqual([
      { field: 'items.0.quantity', message: 'quantity must be an integer number' },
    ]);
    const mine = await getJson<OrderPage>(api, '/orders?customerId=after-pollution');
    expect(mine.items.map((o) => o.id)).toEqual([id]);
    for (const product of await inventory(api)) {
      expect(Object.keys(product).sort()).toEqual([
        'available',
        'name',
        'productId',
        'reserved',
        'sold',
        'unitPrice',
      ]);
    }
  });
});
