import { Order, type OrderLimits } from './order.aggregate.js';
import { OrderError } from './order.errors.js';
import {
  ACTIVE_STATUSES,
  ORDER_STATUSES,
  OrderStatus,
  TERMINAL_STATUSES,
  TRANSITIONS,
} from './order-status.js';

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

/** Everything the workflow (its sagas, deadlines and requests) may ask of an order. */
const STEPS: Record<string, (order: Order) => unknown> = {
  validate: (order) => order.validate(catalog, LIMITS, NOW),
  reject: (order) => order.validate(new Map(), LIMITS, NOW),
  reserve: (order) => {
    order.recordReservation('product-1', NOW);
    order.recordReservation('product-2', NOW);
  },
  startPayment: (order) => order.markPaymentProcessing(NOW),
  complete: (order) => order.complete('payment-1', NOW),
  fail: (order) => order.fail('payment declined', NOW),
  cancel: (order) => {
    try {
      order.cancel('changed my mind', NOW);
    } catch (error) {
      // A terminal order refuses: no move, which is what this walk records.
      if (!(error instanceof OrderError)) throw error;
    }
  },
};

/**
 * Drives the aggregate through every path of the workflow: from each status reached, every step,
 * each on a new order brought there by the steps that first reached it. Returns the moves the
 * aggregate made ('FROM -> TO') and the statuses it reached.
 */
function walk(): { moves: Set<string>; reached: Set<string> } {
  const pathTo = new Map<string, string[]>([[OrderStatus.PENDING, []]]);
  const moves = new Set<string>();
  const queue: string[] = [OrderStatus.PENDING];
  while (queue.length > 0) {
    const path = pathTo.get(queue.shift()!)!;
    for (const [name, step] of Object.entries(STEPS)) {
      const order = placed();
      for (const earlier of path) STEPS[earlier]!(order);
      const from = order.status;
      step(order);
      if (order.status === from) continue;
      moves.add(`${from} -> ${order.status}`);
      if (!pathTo.has(order.status)) {
        pathTo.set(order.status, [...path, name]);
        queue.push(order.status);
      }
    }
  }
  return { moves, reached: new Set(pathTo.keys()) };
}

const table = new Set(
  ORDER_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from} -> ${to}`)),
);

describe('the order lifecycle', () => {
  let moves: Set<string>;
  let reached: Set<string>;
  // A move the table lacks makes the aggregate throw ("… is not allowed"), failing every test.
  beforeAll(() => ({ moves, reached } = walk()));

  it('holds every move the aggregate makes', () => {
    expect([...moves].filter((move) => !table.has(move))).toEqual([]);
  });

  it('holds no move the aggregate never makes', () => {
    expect([...table].filter((move) => !moves.has(move))).toEqual([]);
  });

  it('is reached in every status, and never left from a terminal one', () => {
    expect([...reached].sort()).toEqual([...ORDER_STATUSES].sort());
    for (const status of TERMINAL_STATUSES) {
      expect([...moves].filter((move) => move.startsWith(`${status} `))).toEqual([]);
    }
  });

  it('splits the statuses into running and terminal ones', () => {
    expect(ACTIVE_STATUSES).toEqual([
      'PENDING',
      'VALIDATED',
      'INVENTORY_RESERVED',
      'PAYMENT_PROCESSING',
    ]);
    expect(TERMINAL_STATUSES).toEqual(['COMPLETED', 'FAILED', 'CANCELLED']);
  });
});
