import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import {
  createTestApp,
  eventually,
  getOrder,
  orderEventTypes,
  placeOrder,
  removeTempDatabases,
  settled,
  stockOf,
  TERMINAL,
  type TestApp,
  COMPLETED_TWO_LINE_TRAIL,
} from './create-test-app.js';

interface EventBody {
  seq: number;
  eventId: string;
  type: string;
  correlationId: string;
  causationId: string | null;
  occurredAt: string;
  payload: Record<string, unknown>;
}

async function eventsOf(t: TestApp, id: string): Promise<EventBody[]> {
  const response = await t.api.get(`/orders/${id}/events`).expect(200);
  return response.body as EventBody[];
}

afterAll(() => removeTempDatabases());

describe('order workflow (payments succeed)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('completes an order with the full event trail in order', async () => {
    const id = await placeOrder(t.api, [
      { productId: 'product-1', quantity: 2 },
      { productId: 'product-2', quantity: 1 },
    ]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('COMPLETED');
    expect(order.totalAmount).toBe('175.00');
    expect(order.items).toEqual([
      { productId: 'product-1', quantity: 2, unitPrice: '50.00' },
      { productId: 'product-2', quantity: 1, unitPrice: '75.00' },
    ]);

    const events = await eventsOf(t, id);
    expect(events.map((e) => e.type)).toEqual(COMPLETED_TWO_LINE_TRAIL);
    // One story: same correlation, strictly increasing sequence, each event caused by an earlier one.
    const seen = new Set<string>();
    events.forEach((event, index) => {
      expect(event.correlationId).toBe(events[0].correlationId);
      if (index > 0) {
        expect(event.seq).toBeGreaterThan(events[index - 1].seq);
        expect(seen.has(event.causationId!)).toBe(true);
      }
      seen.add(event.eventId);
    });
    expect(events[1].payload).toMatchObject({ isValid: true, totalAmount: '175.00' });

    const stock = await eventually(
      () => stockOf(t.api, 'product-1'),
      (s) => s.reserved === 0,
      { what: 'reservation to be sold' },
    );
    expect(stock).toMatchObject({ available: 98, reserved: 0, sold: 2 });
    const payments = await t.api.get(`/payments?orderId=${id}`).expect(200);
    expect(payments.body).toEqual([
      expect.objectContaining({ status: 'COMPLETED', amount: '175.00' }),
    ]);
  });

  it('fails an order for an unknown product and changes no stock', async () => {
    const before = await stockOf(t.api, 'product-3');
    const id = await placeOrder(t.api, [
      { productId: 'product-3', quantity: 1 },
      { productId: 'no-such-product', quantity: 1 },
    ]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toContain('no-such-product');
    expect(await orderEventTypes(t.api, id)).toEqual([
      'OrderCreated',
      'OrderValidated',
      'OrderFailed',
      'OrderFailureNotificationSent',
    ]);
    expect(await stockOf(t.api, 'product-3')).toEqual(before);
  });

  it('fails an order whose stock is insufficient, reserving none of its lines', async () => {
    const product1 = await stockOf(t.api, 'product-1');
    const id = await placeOrder(t.api, [
      { productId: 'product-1', quantity: 1 },
      { productId: 'product-3', quantity: 26 },
    ]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toMatch(/Insufficient stock for product-3/);
    const types = await orderEventTypes(t.api, id);
    expect(types).toContain('InventoryInsufficient');
    expect(types).not.toContain('InventoryReserved');
    expect(types).not.toContain('PaymentInitiated');
    expect(await stockOf(t.api, 'product-1')).toEqual(product1);
  });

  it('refuses to cancel a completed order with 409', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    await settled(t.api, id);
    const response = await t.api.post(`/orders/${id}/cancel`).send({}).expect(409);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 409, code: 'ORDER_NOT_CANCELLABLE' });
    expect((await getOrder(t.api, id)).status).toBe('COMPLETED');
  });

  it('sells exactly the stock there is to 40 concurrent orders for 25 units', async () => {
    await t.api
      .put('/inventory/scarce')
      .send({ name: 'Scarce', unitPrice: '9.99', available: 25 })
      .expect(200);
    const ids = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        placeOrder(t.api, [{ productId: 'scarce', quantity: 1 }], `buyer-${i}`),
      ),
    );
    expect(new Set(ids).size).toBe(40);
    const orders = await Promise.all(ids.map((id) => settled(t.api, id, 30_000)));
    const completed = orders.filter((o) => o.status === 'COMPLETED');
    const failed = orders.filter((o) => o.status === 'FAILED');
    expect(completed).toHaveLength(25);
    expect(failed).toHaveLength(15);
    failed.forEach((o) => expect(o.failureReason).toMatch(/Insufficient stock/));
    const stock = await eventually(
      () => stockOf(t.api, 'scarce'),
      (s) => s.reserved === 0,
      { what: 'scarce stock to settle' },
    );
    expect(stock).toMatchObject({ available: 0, reserved: 0, sold: 25 });
  });
});

describe('order workflow (payments declined)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ config: { paymentFailureRate: 1 } });
  });
  afterAll(() => t.close());

  it('releases the reservation before failing the order, and stock is back where it was', async () => {
    const before = await stockOf(t.api, 'product-2');
    const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 4 }]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toMatch(/Payment failed/);
    const types = await orderEventTypes(t.api, id);
    expect(types).toEqual([
      'OrderCreated',
      'OrderValidated',
      'InventoryReserved',
      'OrderProcessingStarted',
      'PaymentInitiated',
      'PaymentFailed',
      'InventoryReleased',
      'OrderFailed',
      'OrderFailureNotificationSent',
    ]);
    expect(await stockOf(t.api, 'product-2')).toEqual(before);
    const payments = await t.api.get(`/payments?orderId=${id}`).expect(200);
    expect(payments.body).toEqual([expect.objectContaining({ status: 'FAILED' })]);
  });
});

describe('cancelling before payment completes (payments take 1.5 s)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ config: { paymentLatencyMs: 1500 } });
  });
  afterAll(() => t.close());

  it('cancels an order right after it was placed: nothing stays reserved or charged', async () => {
    const before = await stockOf(t.api, 'product-2');
    const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 3 }]);
    const cancelled = await t.api
      .post(`/orders/${id}/cancel`)
      .send({ reason: 'changed my mind' })
      .expect(200);
    expect(cancelled.body).toMatchObject({ id, status: 'CANCELLED' });
    await settled(t.api, id);
    const types = await orderEventTypes(t.api, id);
    expect(types.filter((type) => type === 'OrderFailureNotificationSent')).toHaveLength(1);
    expect(types).not.toContain('OrderConfirmationSent');
    expect(await stockOf(t.api, 'product-2')).toEqual(before);
    expect((await getOrder(t.api, id)).status).toBe('CANCELLED');
    // A charge already under way when the order was cancelled is refunded once it lands.
    await eventually(
      async () => {
        const response = await t.api.get(`/payments?orderId=${id}`).expect(200);
        return (response.body as Array<{ status: string }>).map((p) => p.status);
      },
      (statuses) => statuses.every((status) => status === 'FAILED' || status === 'REFUNDED'),
      { what: 'no payment to stay charged' },
    );
  });

  it('cancels, releases the stock and refunds the charge that succeeds afterwards', async () => {
    const before = await stockOf(t.api, 'product-1');
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 5 }]);
    await eventually(
      () => getOrder(t.api, id),
      (o) => o.status === 'PAYMENT_PROCESSING',
      { what: 'payment to start' },
    );
    // Cancel only once the gateway has the call (it takes 1.5 s to answer): the charge is under
    // way, not about to be skipped because the order closed first.
    const { paymentId } = await eventually(
      async () => {
        const response = await t.api.get(`/payments?orderId=${id}`).expect(200);
        return (response.body as Array<{ paymentId: string }>)[0] ?? { paymentId: '' };
      },
      (p) => p.paymentId !== '',
      { what: 'the payment to be recorded' },
    );
    const database = t.app.get<Database>(DATABASE);
    await eventually(
      () =>
        database.reader
          .selectFrom('gateway_calls')
          .select('attempts')
          .where('idempotency_key', '=', paymentId)
          .executeTakeFirst(),
      (call) => call !== undefined,
      { what: 'the gateway to receive the charge' },
    );
    await t.api.post(`/orders/${id}/cancel`).send({}).expect(200);
    const payment = await eventually(
      async () => {
        const response = await t.api.get(`/payments?orderId=${id}`).expect(200);
        return (response.body as Array<{ status: string }>)[0];
      },
      (p) => p?.status === 'REFUNDED',
      { what: 'late charge to be refunded' },
    );
    expect(payment.status).toBe('REFUNDED');
    const order = await settled(t.api, id);
    expect(order.status).toBe('CANCELLED');
    expect(TERMINAL).toContain(order.status);
    const types = await orderEventTypes(t.api, id);
    expect(types).toContain('InventoryReleased');
    expect(types).not.toContain('OrderCompleted');
    expect(await stockOf(t.api, 'product-1')).toEqual(before);
  });
});
