import { Order } from './order.aggregate.js';
import { OrderError } from './order.errors.js';

const NOW = '2026-01-01T00:00:00.000Z';
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
    order.validate(catalog, NOW);
    expect(order.status).toBe('VALIDATED');
    expect(order.snapshot.totalAmount).toBe(17500);
    expect(types(order)).toEqual(['OrderValidated']);
  });

  it('fails at validation when a product is unknown', () => {
    const order = placed();
    order.validate(new Map([['product-1', { unitPrice: 5000 }]]), NOW);
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.failureReason).toContain('product-2');
    expect(types(order)).toEqual(['OrderValidated', 'OrderFailed']);
  });

  it('starts processing only when every line is reserved, once', () => {
    const order = placed();
    order.validate(catalog, NOW);
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
    order.validate(catalog, NOW);
    order.fail('boom', NOW);
    order.uncommit();
    order.fail('again', NOW);
    order.validate(catalog, NOW);
    expect(order.complete('p-1', NOW)).toBe('order-closed');
    expect(order.status).toBe('FAILED');
    expect(order.snapshot.failureReason).toBe('boom');
    expect(types(order)).toEqual([]);
    expect(() => order.cancel('late', NOW)).toThrow(OrderError);
  });

  it('completes from payment processing, and a second completion changes nothing', () => {
    const order = placed();
    order.validate(catalog, NOW);
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
    order.validate(catalog, NOW);
    order.cancel('changed my mind', NOW);
    expect(order.status).toBe('CANCELLED');
  });
});
