import { Order, type OrderLimits } from './order.aggregate.js';
import { OrderError } from './order.errors.js';

const NOW = '2026-01-01T00:00:00.000Z';
const LIMITS: OrderLimits = { maxUnitPrice: 100_000_000, maxOrderTotal: 1_000_000_000 };
const catalog = new Map([
  ['product-1', { unitPrice: 5000 }],
  ['product-2', { unitPrice: 7500 }],
]);

function placed(): Order {
  const order = Order.place(
    {
      id: 'o-1',
      customerId: 'c-1',
      customerEmail: null,
      items: [
        { productId: 'product-1', quantity: 2 },
        { productId: 'product-2', quantity: 1 },
      ],
      currency: 'USD',
    },
    NOW,
  );
  order.uncommit();
  return order;
}

const types = (order: Order) => order.getUncommittedEvents().map((e) => e.constructor.name);

describe('Order', () => {
  it('prices the lines from the catalog and totals them exactly', () => {
    const order = placed();
    order.validate(catalog, LIMITS, NOW);
    expect(order.status).toBe('VALIDATED');
    expect(order.snapshot.totalAmount).toBe(17500);
    expect(types(order)).toEqual(['OrderValidated']);
  });

  it('fails at validation when a product is unknown', () => {
    const order = placed();
    order.validate(new Map([['product-1', { unitPrice: 5000 }]]), LIMITS, NOW);
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.failureReason).toContain('product-2');
    expect(types(order)).toEqual(['OrderValidated', 'OrderFailed']);
  });

  it('starts processing only when every line is reserved, once', () => {
    const order = placed();
    order.validate(catalog, LIMITS, NOW);
    order.uncommit();
    order.recordReservation('product-1', NOW);
    expect(order.status).toBe('VALIDATED');
    order.recordReservation('product-1', NOW);
    order.recordReservation('product-2', NOW);
    order.recordReservation('product-2', NOW);
    expect(order.status).toBe('INVENTORY_RESERVED');
    expect(types(order)).toEqual(['OrderProcessingStarted']);
  });

  it('never leaves a terminal status', () => {
    const order = placed();
    order.validate(catalog, LIMITS, NOW);
    order.fail('boom', NOW);
    order.uncommit();
    order.fail('again', NOW);
    order.validate(catalog, LIMITS, NOW);
    expect(order.complete('p-1', NOW)).toBe('order-closed');
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.failureReason).toBe('boom');
    expect(types(order)).toEqual([]);
    expect(() => order.cancel('late', NOW)).toThrow(OrderError);
  });

  it('completes from payment processing, and a second completion changes nothing', () => {
    const order = placed();
    order.validate(catalog, LIMITS, NOW);
    order.recordReservation('product-1', NOW);
    order.recordReservation('product-2', NOW);
    order.markPaymentProcessing(NOW);
    expect(order.status).toBe('PAYMENT_PROCESSING');
    expect(order.complete('p-1', NOW)).toBe('completed');
    expect(order.complete('p-1', NOW)).toBe('already-completed');
    expect(order.status).toBe('COMPLETED');
  });

  it('can be cancelled before payment completes', () => {
    const order = placed();
    order.validate(catalog, LIMITS, NOW);
    order.cancel('changed my mind', NOW);
    expect(order.status).toBe('CANCELLED');
  });

  it('fails at validation when the total is over the limit, exactly and without overflow', () => {
    const order = placed();
    // 999,999,999,999 cents times 1,000 is past Number.MAX_SAFE_INTEGER once summed.
    const dear = new Map([
      ['product-1', { unitPrice: 999_999_999_999 }],
      ['product-2', { unitPrice: 999_999_999_999 }],
    ]);
    order.validate(dear, LIMITS, NOW);
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.totalAmount).toBeNull();
    expect(order.snapshot.failureReason).toMatch(
      /^Order total .* exceeds the maximum of 10000000\.00$/,
    );
    expect(types(order)).toEqual(['OrderValidated', 'OrderFailed']);
  });

  it('takes a total exactly at the limit', () => {
    const order = placed();
    order.validate(catalog, { maxUnitPrice: 7500, maxOrderTotal: 17500 }, NOW);
    expect(order.status).toBe('VALIDATED');
  });

  it('fails at validation when a catalog price is over the limit, even if the total is not', () => {
    const order = placed();
    order.validate(catalog, { maxUnitPrice: 5000, maxOrderTotal: 1_000_000 }, NOW);
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.failureReason).toBe('Unit price exceeds the maximum of 50.00: product-2');
  });
});
