import request from 'supertest';
import { StockRepository } from '../src/inventory/infrastructure/stock.repository.js';
import type { OrderEvent } from './api-types.js';
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
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
  await removeTempDatabases();
});

describe('money limits', () => {
  it('refuses a catalog price above MAX_UNIT_PRICE and takes one at it', async () => {
    const put = (unitPrice: string) =>
      request(t.http).put('/inventory/limit-price').send({ name: 'Dear', unitPrice, available: 1 });
    const problem = expectProblem(await put('1000000.01'), 400);
    expect(problem.code).toBe('PRODUCT_PRICE_ABOVE_MAXIMUM');
    expect(problem.detail).toContain('1000000.00');
    await request(t.http).get('/inventory/limit-price').expect(404);
    expect((await put('1000000.00').expect(200)).body).toMatchObject({ unitPrice: '1000000.00' });
  });

  it('fails an order whose total would overflow at once, with a reason and no dead letter', async () => {
    // Rows priced before the limit existed: the API no longer writes such a price.
    const stock = t.app.get(StockRepository);
    const items = [];
    for (let i = 0; i < 10; i++) {
      await stock.upsert(`yacht-${i}`, 'Yacht', 999_999_999_999, 1_000);
      items.push({ productId: `yacht-${i}`, quantity: 1_000 });
    }
    const started = Date.now();
    const id = await placeOrder(t.http, items);
    const order = await settled(t.http, id, 10_000);
    // Well before any retry schedule or order deadline could have run out.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(order.status).toBe('FAILED');
    expect(order.totalAmount).toBeNull();
    expect(order.failureReason).toBe(
      'Order total 99999999999900.00 exceeds the maximum of 10000000.00',
    );
    const events = (await request(t.http).get(`/orders/${id}/events`).expect(200))
      .body as OrderEvent[];
    expect(events.map((e) => e.type)).toEqual([
      'OrderCreated',
      'OrderValidated',
      'OrderFailed',
      'OrderFailureNotificationSent',
    ]);
    expect(events[1].payload).toMatchObject({ isValid: false });
    expect((await request(t.http).get('/admin/dead-letters').expect(200)).body).toEqual([]);
    expect((await request(t.http).get('/inventory/yacht-0').expect(200)).body).toMatchObject({
      available: 1_000,
      reserved: 0,
    });
  });

  it('fails an order that names a product priced above the maximum, even at a small total', async () => {
    await t.app.get(StockRepository).upsert('old-price', 'Old', 500_000_000, 10);
    const id = await placeOrder(t.http, [{ productId: 'old-price', quantity: 1 }]);
    const order = await settled(t.http, id);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('Unit price exceeds the maximum of 1000000.00: old-price');
  });

  it('still takes an order at the total limit', async () => {
    await request(t.http)
      .put('/inventory/limit-total')
      .send({ name: 'Bulk', unitPrice: '10000.00', available: 1_000 })
      .expect(200);
    const id = await placeOrder(t.http, [{ productId: 'limit-total', quantity: 1_000 }]);
    const order = await settled(t.http, id);
    expect(order).toMatchObject({ status: 'COMPLETED', totalAmount: '10000000.00' });
    expect(await getOrder(t.http, id)).toMatchObject({ failureReason: null });
  });
});
