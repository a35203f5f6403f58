/**
 * What the crash test and the cluster test share: the seeded random source of their plans, and
 * the check of one order's event history in the log.
 */

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
  OrderCompleted: 'COMPLETED',
  OrderFailed: 'FAILED',
  OrderCancelled: 'CANCELLED',
};

export const NOTIFICATION_EVENTS = ['OrderConfirmationSent', 'OrderFailureNotificationSent'];

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
  if ((reservation.status === 'SOLD') !== (orderStatus === 'COMPLETED')) {
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
  const kind = order.status === 'COMPLETED' ? 'CONFIRMATION' : 'FAILURE';
  const sent = rows.filter((n) => n.status === 'SENT');
  if (rows.length !== 1 || sent.length !== 1) {
    problems.push(`${rows.length} notification rows, ${sent.length} SENT`);
  } else if (sent[0].kind !== kind) {
    problems.push(`notification kind ${sent[0].kind}, expected ${kind}`);
  }
  const notices = orderEvents.filter((e) => NOTIFICATION_EVENTS.includes(e.type));
  const expected = order.status === 'COMPLETED' ? NOTIFICATION_EVENTS[0] : NOTIFICATION_EVENTS[1];
  if (notices.length !== 1 || notices[0].type !== expected) {
    problems.push(
      `notification events [${notices.map((e) => e.type).join(', ')}], expected one ${expected}`,
    );
  }
  return problems;
}

/** Every variable the service reads: a test sets all of them, so none leaks in from outside. */
export const SERVICE_VARS = [
  'PORT',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'LOG_LEVEL',
  'AMQP_URL',
  'AMQP_PREFIX',
  'AMQP_PREFETCH',
  'SQLITE_SYNCHRONOUS',
  'PAYMENT_LATENCY_MS',
  'PAYMENT_FAILURE_RATE',
  'PAYMENT_TRANSIENT_FAILURE_RATE',
  'PAYMENT_HANG_RATE',
  'PAYMENT_TIMEOUT_MS',
  'ORDER_STEP_TIMEOUT_MS',
  'NOTIFICATION_LATENCY_MS',
  'RANDOM_SEED',
  'RETRY_MAX_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'DISPATCH_CONCURRENCY',
  'DISPATCH_POLL_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'CRASH_POINTS',
  'CRASH_PROBABILITY',
];

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
    if (payment.status === 'FAILED' && charge.status !== 'DECLINED') {
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
    if (order.status === 'COMPLETED') {
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
