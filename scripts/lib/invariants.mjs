/**
 * What the test scripts share to check the data the service leaves behind: the rows they read,
 * the checks on orders, stock, charges, notifications and event histories, and the seeded random
 * source of their plans.
 *
 * The order statuses come from the service's own lifecycle (src/orders/domain/order-status.ts) as
 * built in dist/: every script that reads these checks builds the service first.
 */
import { OrderStatus, TERMINAL_STATUSES } from '../../dist/orders/domain/order-status.js';

export { TERMINAL_STATUSES };

/** Event types an order has at most once. */
export const UNIQUE_EVENTS = [
  'OrderCreated',
  'OrderValidated',
  'OrderProcessingStarted',
  'InventoryInsufficient',
  'PaymentInitiated',
  'PaymentCompleted',
  'PaymentFailed',
  'OrderCompleted',
  'OrderFailed',
  'OrderCancelled',
  'OrderConfirmationSent',
  'OrderFailureNotificationSent',
];

/** The event that ends an order, and the status it leaves. */
export const TERMINAL_EVENTS = {
  OrderCompleted: OrderStatus.COMPLETED,
  OrderFailed: OrderStatus.FAILED,
  OrderCancelled: OrderStatus.CANCELLED,
};

export const NOTIFICATION_EVENTS = ['OrderConfirmationSent', 'OrderFailureNotificationSent'];

// A terminal status without its event here would pass every history check unseen.
const byText = (a, b) => a.localeCompare(b);
if (
  [...TERMINAL_STATUSES].sort(byText).join() !== Object.values(TERMINAL_EVENTS).sort(byText).join()
) {
  throw new Error(
    `TERMINAL_EVENTS ends orders in ${Object.values(TERMINAL_EVENTS).join(', ')}; ` +
      `the lifecycle's terminal statuses are ${TERMINAL_STATUSES.join(', ')}`,
  );
}

/** 32-bit FNV-1a of a string: turns any seed text (and sub-seeds) into a mulberry32 state. */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small seeded PRNG: next() in [0, 1), next.int(min, max), next.pick(list). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  next.pick = (list) => list[Math.floor(next() * list.length)];
  return next;
}

/**
 * The random sources of a plan: `rngFor(...parts)` is a mulberry32 seeded with `seed` and the
 * parts, so each part of the plan draws from its own repeatable sequence.
 */
export function seededRngs(seed) {
  return (...parts) => mulberry32(hash32([seed, ...parts].join('/')));
}

/**
 * What is wrong with one order's history: `list` is its event_log rows by seq (type, seq,
 * payload, causation_id), `order` its orders row (or undefined), `seqByEventId` the seq of every
 * event in the log. Checks: exactly one OrderCreated and it is first; no one-off event twice;
 * each line reserved and released at most once; causes come before effects; one terminal event
 * matching the status; the final notification after it.
 */
export function eventHistoryProblems(list, order, seqByEventId) {
  const problems = [];
  if (!order) problems.push('events for an order that does not exist');
  if (list[0].type !== 'OrderCreated') problems.push(`first event is ${list[0].type}`);
  const counts = new Map();
  for (const event of list) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
  if ((counts.get('OrderCreated') ?? 0) === 0) problems.push('no OrderCreated');
  for (const type of UNIQUE_EVENTS) {
    const n = counts.get(type) ?? 0;
    if (n > 1) problems.push(`${type} ${n} times`);
  }
  for (const type of ['InventoryReserved', 'InventoryReleased']) {
    const perProduct = new Map();
    for (const event of list.filter((e) => e.type === type)) {
      const { productId } = JSON.parse(event.payload);
      perProduct.set(productId, (perProduct.get(productId) ?? 0) + 1);
    }
    for (const [productId, n] of perProduct) {
      if (n > 1) problems.push(`${type} for ${productId} ${n} times`);
    }
  }
  for (const event of list) {
    if (event.causation_id === null) continue;
    const causeSeq = seqByEventId.get(event.causation_id);
    if (causeSeq === undefined) {
      problems.push(`${event.type} #${event.seq} caused by unknown event ${event.causation_id}`);
    } else if (causeSeq >= event.seq) {
      problems.push(`${event.type} #${event.seq} caused by a later event #${causeSeq}`);
    }
  }
  const terminal = list.filter((e) => e.type in TERMINAL_EVENTS);
  if (terminal.length !== 1) {
    problems.push(`terminal events [${terminal.map((e) => e.type).join(', ')}]`);
  } else if (order && TERMINAL_EVENTS[terminal[0].type] !== order.status) {
    problems.push(`terminal event ${terminal[0].type} but the order is ${order.status}`);
  }
  const notice = list.find((e) => NOTIFICATION_EVENTS.includes(e.type));
  if (notice && terminal.length > 0 && notice.seq < terminal[0].seq) {
    problems.push(`${notice.type} #${notice.seq} before ${terminal[0].type} #${terminal[0].seq}`);
  }
  return problems;
}

/** Rows grouped by the value of one column. */
export function groupBy(rows, key) {
  const map = new Map();
  for (const row of rows) {
    const list = map.get(row[key]);
    if (list) list.push(row);
    else map.set(row[key], [row]);
  }
  return map;
}

/** What is wrong with an order's reservation row, given the order's final status. */
export function reservationProblems(reservation, orderStatus) {
  const problems = [];
  if (reservation.status === 'RESERVED') {
    problems.push(
      `reservation of order ${reservation.order_id} (${orderStatus}) is still RESERVED`,
    );
  }
  if ((reservation.status === 'SOLD') !== (orderStatus === OrderStatus.COMPLETED)) {
    problems.push(
      `reservation of order ${reservation.order_id} is ${reservation.status}, the order ${orderStatus}`,
    );
  }
  return problems;
}

/**
 * What is wrong with an order's final notification: exactly one notifications row, SENT, of the
 * kind its status calls for, and exactly one matching notification event in `orderEvents`.
 */
export function notificationProblems(order, rows, orderEvents) {
  const problems = [];
  const kind = order.status === OrderStatus.COMPLETED ? 'CONFIRMATION' : 'FAILURE';
  const sent = rows.filter((n) => n.status === 'SENT');
  if (rows.length !== 1 || sent.length !== 1) {
    problems.push(`${rows.length} notification rows, ${sent.length} SENT`);
  } else if (sent[0].kind !== kind) {
    problems.push(`notification kind ${sent[0].kind}, expected ${kind}`);
  }
  const notices = orderEvents.filter((e) => NOTIFICATION_EVENTS.includes(e.type));
  const expected =
    order.status === OrderStatus.COMPLETED ? NOTIFICATION_EVENTS[0] : NOTIFICATION_EVENTS[1];
  if (notices.length !== 1 || notices[0].type !== expected) {
    problems.push(
      `notification events [${notices.map((e) => e.type).join(', ')}], expected one ${expected}`,
    );
  }
  return problems;
}

/**
 * The gateway's ledger (gateway_charges, keyed by payments.payment_id) against payments and
 * orders: no orphan charge or payment, nothing left PENDING, at most one payment and one charge
 * per order (category 'double'), a COMPLETED order with exactly one succeeded charge, and no
 * unrefunded charge for an order that did not complete. Returns [{ category, message }].
 */
export function chargeViolations(orders, payments, charges) {
  const found = [];
  const violate = (category, message) => found.push({ category, message });
  const orderIds = new Set(orders.map((o) => o.id));
  const paymentById = new Map(payments.map((p) => [p.payment_id, p]));
  const paymentsByOrder = groupBy(payments, 'order_id');
  const chargesByOrder = new Map();
  for (const charge of charges) {
    const payment = paymentById.get(charge.idempotency_key);
    if (!payment) {
      violate('charges', `ledger row ${charge.idempotency_key} (${charge.status}) has no payment`);
      continue;
    }
    const list = chargesByOrder.get(payment.order_id) ?? [];
    list.push(charge);
    chargesByOrder.set(payment.order_id, list);
    const expected = { COMPLETED: 'SUCCEEDED', REFUNDED: 'REFUNDED' }[payment.status];
    if (expected && charge.status !== expected) {
      violate(
        'charges',
        `payment ${payment.payment_id} is ${payment.status}, its charge ${charge.status}`,
      );
    }
    // A failed payment was declined, or its key voided before any charge (the order closed).
    if (payment.status === 'FAILED' && !['DECLINED', 'VOIDED'].includes(charge.status)) {
      violate(
        'charges',
        `payment ${payment.payment_id} of order ${payment.order_id} is FAILED but the gateway ` +
          `charged it (${charge.status}, never refunded)`,
      );
    }
  }
  const charged = new Set(charges.map((c) => c.idempotency_key));
  for (const payment of payments) {
    if (!orderIds.has(payment.order_id)) {
      violate('charges', `payment ${payment.payment_id} belongs to no order (${payment.order_id})`);
    }
    if (payment.status === 'PENDING') {
      violate('charges', `payment ${payment.payment_id} of order ${payment.order_id} is PENDING`);
    }
    if (['COMPLETED', 'REFUNDED'].includes(payment.status) && !charged.has(payment.payment_id)) {
      violate('charges', `payment ${payment.payment_id} is ${payment.status} without a charge`);
    }
  }
  for (const order of orders) {
    const list = chargesByOrder.get(order.id) ?? [];
    const taken = list.filter((c) => c.status === 'SUCCEEDED' || c.status === 'REFUNDED');
    const succeeded = list.filter((c) => c.status === 'SUCCEEDED');
    const orderPayments = paymentsByOrder.get(order.id) ?? [];
    if (taken.length > 1 || orderPayments.length > 1) {
      violate(
        'double',
        `order ${order.id}: ${orderPayments.length} payments, charged ${taken.length} times`,
      );
    }
    if (order.status === OrderStatus.COMPLETED) {
      if (succeeded.length !== 1) {
        violate(
          'charges',
          `order ${order.id} is COMPLETED with ${succeeded.length} succeeded charges`,
        );
      }
      if (orderPayments[0]?.status !== 'COMPLETED') {
        violate(
          'charges',
          `order ${order.id} is COMPLETED, its payment ${orderPayments[0]?.status}`,
        );
      }
    } else if (succeeded.length > 0) {
      violate('charges', `order ${order.id} is ${order.status} but holds an unrefunded charge`);
    }
  }
  return found;
}

/** The rows the checks read, by name; the same SQL on SQLite and PostgreSQL. */
const TABLE_QUERIES = {
  orders: 'SELECT id, status, items FROM orders',
  products: 'SELECT product_id, available, reserved, sold FROM products',
  payments: 'SELECT payment_id, order_id, status FROM payments',
  charges: 'SELECT idempotency_key, status FROM gateway_charges',
  notifications: 'SELECT order_id, kind, status FROM notifications',
  reservations: 'SELECT order_id, status FROM reservations',
  events:
    'SELECT seq, event_id, type, stream_id, payload, causation_id FROM event_log ORDER BY seq',
  /** the deliveries not DONE, counted by status */
  deliveries: "SELECT status, count(*) AS n FROM deliveries WHERE status <> 'DONE' GROUP BY status",
  deadLetters:
    'SELECT subscriber, event_type, stream_id, attempts, last_error FROM dead_letters ORDER BY failed_at',
};

/**
 * Reads every table the checks look at, through `query(sql)`, which returns the rows (or a promise
 * of them). Numbers must come back as numbers (on PostgreSQL, see lib/database.mjs).
 */
export async function readTables(query) {
  const tables = {};
  for (const [name, sql] of Object.entries(TABLE_QUERIES)) tables[name] = await query(sql);
  return tables;
}

/**
 * The notifications and event histories of every order (`tables` from readTables): one SENT
 * notification of the right kind and one notification event per order, no notification of an
 * unknown order; every order has events, and each history passes eventHistoryProblems. Returns
 * { violations: [{ category, message }], notificationViolations, eventViolations } (the last two
 * count orders).
 */
export function recordViolations({ orders, notifications, events }) {
  const violations = [];
  const violate = (category, message) => violations.push({ category, message });
  const orderById = new Map(orders.map((o) => [o.id, o]));

  // Notifications: one SENT row per order, of the right kind, and one notification event.
  const notificationsByOrder = groupBy(notifications, 'order_id');
  const eventsByStream = groupBy(events, 'stream_id');
  let notificationViolations = 0;
  for (const order of orders) {
    const problems = notificationProblems(
      order,
      notificationsByOrder.get(order.id) ?? [],
      eventsByStream.get(order.id) ?? [],
    );
    if (problems.length > 0) {
      notificationViolations++;
      violate('notifications', `order ${order.id} (${order.status}): ${problems.join('; ')}`);
    }
  }
  for (const orderId of notificationsByOrder.keys()) {
    if (!orderById.has(orderId)) {
      violate('notifications', `notification for unknown order ${orderId}`);
    }
  }

  // Events of each order: one OrderCreated first, no duplicates, causes before effects.
  const seqByEventId = new Map(events.map((e) => [e.event_id, e.seq]));
  let eventViolations = 0;
  for (const [streamId, list] of eventsByStream) {
    const problems = eventHistoryProblems(list, orderById.get(streamId), seqByEventId);
    if (problems.length > 0) {
      eventViolations++;
      violate('events', `order ${streamId}: ${problems.join('; ')}`);
    }
  }
  for (const order of orders) {
    if (!eventsByStream.has(order.id)) {
      eventViolations++;
      violate('events', `order ${order.id} has no events`);
    }
  }
  return { violations, notificationViolations, eventViolations };
}

/**
 * Stock against `initialStock` (product id -> units before the load): every product still there
 * and none added; nothing negative, nothing created or lost (available + reserved + sold is the
 * initial stock), nothing left reserved, sold what the COMPLETED orders hold and never more than
 * there was; every reservation released or sold as its order's status says. Returns
 * { violations, soldByProduct } (units in COMPLETED orders, by product).
 */
export function stockViolations({ orders, products, reservations }, initialStock) {
  const violations = [];
  const violate = (message) => violations.push({ category: 'stock', message });
  const soldByProduct = new Map();
  for (const order of orders) {
    if (order.status !== OrderStatus.COMPLETED) continue;
    for (const line of JSON.parse(order.items)) {
      soldByProduct.set(line.productId, (soldByProduct.get(line.productId) ?? 0) + line.quantity);
    }
  }
  const productById = new Map(products.map((p) => [p.product_id, p]));
  for (const [id, initial] of initialStock) {
    const product = productById.get(id);
    if (!product) {
      violate(`product ${id} is gone`);
      continue;
    }
    const [available, reserved, sold] = [product.available, product.reserved, product.sold].map(
      Number,
    );
    if (available < 0 || reserved < 0 || sold < 0) {
      violate(`${id}: negative stock (available ${available}, reserved ${reserved}, sold ${sold})`);
    }
    if (available + reserved + sold !== initial) {
      violate(
        `${id}: available ${available} + reserved ${reserved} + sold ${sold} != initial ${initial}`,
      );
    }
    if (reserved !== 0) violate(`${id}: ${reserved} units still reserved`);
    const completedUnits = soldByProduct.get(id) ?? 0;
    if (sold !== completedUnits) {
      violate(`${id}: sold ${sold}, but COMPLETED orders hold ${completedUnits}`);
    }
    if (completedUnits > initial) {
      violate(`${id}: oversold, ${completedUnits} units completed of ${initial}`);
    }
  }
  for (const product of products) {
    if (!initialStock.has(product.product_id)) {
      violate(`unexpected product ${product.product_id}`);
    }
  }
  const orderById = new Map(orders.map((o) => [o.id, o]));
  for (const reservation of reservations) {
    const status = orderById.get(reservation.order_id)?.status;
    for (const problem of reservationProblems(reservation, status)) violate(problem);
  }
  return { violations, soldByProduct };
}

/**
 * Every check on the data once the orders have settled, as the crash and cluster tests make them
 * (`tables` from readTables):
 * - nothing lost: every order the clients' `book` (an OrderBook) has accepted is stored with the
 *   items the client sent, and every stored order is terminal;
 * - every order whose cancel was answered 200 is CANCELLED;
 * - charges (chargeViolations), stock against `initialStock` (stockViolations), notifications and
 *   event histories (recordViolations).
 * Returns { violations: [{ category, message }], figures } (counts for the summary).
 */
export function orderDataViolations({ tables, book, initialStock }) {
  const { accepted, cancelled } = book;
  const { orders, payments, charges, events, deliveries } = tables;
  const violations = [];
  const violate = (category, message) => violations.push({ category, message });
  const orderById = new Map(orders.map((o) => [o.id, o]));
  const byStatus = Object.fromEntries(TERMINAL_STATUSES.map((status) => [status, 0]));

  // Nothing lost: every accepted order exists, holds what was sent, and every order is terminal.
  let lost = 0;
  for (const [id, { items }] of accepted) {
    const order = orderById.get(id);
    if (!order) {
      lost++;
      violate('lost', `order ${id} was accepted (202) but is not in the database`);
      continue;
    }
    const stored = JSON.parse(order.items)
      .map((l) => `${l.productId}x${l.quantity}`)
      .join(',');
    const sent = items.map((l) => `${l.productId}x${l.quantity}`).join(',');
    if (stored !== sent) {
      violate('lost', `order ${id} has items ${stored}, the client sent ${sent}`);
    }
  }
  for (const order of orders) {
    if (TERMINAL_STATUSES.includes(order.status)) byStatus[order.status]++;
    else {
      lost++;
      violate('lost', `order ${order.id} is still ${order.status}`);
    }
  }
  for (const id of cancelled) {
    const status = orderById.get(id)?.status;
    if (status !== OrderStatus.CANCELLED) {
      violate('cancel', `order ${id}: its cancel was answered 200 but it is ${status}`);
    }
  }

  // Charges: the gateway's ledger (keyed by payments.payment_id) against payments and orders.
  const chargeProblems = chargeViolations(orders, payments, charges);
  violations.push(...chargeProblems);

  const stock = stockViolations(tables, initialStock);
  violations.push(...stock.violations);

  const records = recordViolations(tables);
  violations.push(...records.violations);

  const figures = {
    ordersInDb: orders.length,
    byStatus,
    lost,
    doubleCharges: chargeProblems.filter((v) => v.category === 'double').length,
    charges: charges.filter((c) => c.status === 'SUCCEEDED' || c.status === 'REFUNDED').length,
    refunds: charges.filter((c) => c.status === 'REFUNDED').length,
    declined: charges.filter((c) => c.status === 'DECLINED').length,
    notificationViolations: records.notificationViolations,
    eventViolations: records.eventViolations,
    events: events.length,
    deliveries: Object.fromEntries(deliveries.map((d) => [d.status, Number(d.n)])),
    soldByProduct: stock.soldByProduct,
  };
  return { violations, figures };
}
