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
const CATALOG = new Map([
  ['product-1', { unitPrice: 5000 }],
  ['product-2', { unitPrice: 7500 }],
]);

/** Everything the workflow (its sagas, deadlines and requests) may ask of an order. */
const STEPS: Record<string, (order: Order) => unknown> = {
  validate: (order) => order.validate(CATALOG, LIMITS, NOW),
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

function placed(): Order {
  return Order.place(
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
}

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
