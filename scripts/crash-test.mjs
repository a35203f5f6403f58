// oxlint-disable no-console -- this script reports through its progress lines and summary.
/**
 * Crash test: runs the built service (dist/main.js) through many cycles of load and sudden death
 * (SIGKILL at a random moment, or a self-kill at a crash point inside the code), then lets it
 * finish its work once more without crash points and checks the invariants on the SQLite file.
 *
 *   npm run test:crash                      (builds first)
 *   CRASH_SEED=7 CRASH_CYCLES=30 node scripts/crash-test.mjs
 *
 * Environment: CRASH_SEED (default 20261122) makes the plan (which cycles use crash points, when
 * the script kills, what the clients order) repeatable; the moments the service kills itself come
 * from its own random source and differ between runs (and so does the crash probability, which
 * adapts to them). CRASH_CYCLES (default 24; every cycle ends in one kill and the test needs at
 * least 20).
 * CRASH_KEEP=1 keeps the temporary folder (database and service logs) even when the run passes.
 * Exits 0 only when every invariant holds.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  chargeViolations,
  eventHistoryProblems,
  groupBy,
  hash32,
  mulberry32,
  notificationProblems,
  reservationProblems,
  SERVICE_VARS,
} from './lib/invariants.mjs';
import { freePort } from './lib/processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = join(ROOT, 'dist');

const SEED_TEXT = process.env.CRASH_SEED || '20261122';
const CYCLES = Number(process.env.CRASH_CYCLES || 24);
const KEEP = process.env.CRASH_KEEP === '1';

const MIN_KILLS = 20;
const MIN_ACCEPTED = 200;
const CLIENTS = 4;
const CANCEL_RATE = 0.2;
const READY_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 120_000;
const SHUTDOWN_WAIT_MS = 20_000;
/** A crash-point cycle whose service has not killed itself after this long is killed by the script. */
const CRASH_CYCLE_CAP_MS = 2500;
const CRASH_POINTS =
  'tx-before-commit,tx-after-commit,delivery-before-record,payment-after-charge,notification-after-send';
/**
 * Crash points are passed often (two per transaction, one per delivery of an event to each of
 * its subscribers: a few dozen per order), so a small chance per pass is enough. The planned
 * chance of each crash-point cycle is scaled by CRASH_SCALE, which adapts as the run goes: up
 * when a cycle reached the cap without dying, down when one died almost at once. So the test
 * keeps killing at a useful pace when the code changes how often it passes its crash points.
 */
const CRASH_PROBABILITY_MIN = 0.001;
const CRASH_PROBABILITY_MAX = 0.004;
const CRASH_SCALE_LIMITS = [1 / 16, 16];
const QUICK_DEATH_MS = 300;

/**
 * The seeded catalog sells out after a few hundred orders; `product-bulk`, created once through
 * PUT /inventory before the first orders, keeps payments (and their crash windows) going all run.
 */
const BULK = { productId: 'product-bulk', name: 'Bulk', unitPrice: '5.00', available: 100_000 };
const PRODUCTS = ['product-1', 'product-2', 'product-3', BULK.productId];
const INITIAL_STOCK = {
  'product-1': 100,
  'product-2': 50,
  'product-3': 25,
  [BULK.productId]: BULK.available,
};
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

// ---------------------------------------------------------------------------------------------
// Seeded randomness

const SEED = /^\d+$/.test(SEED_TEXT) ? Number(SEED_TEXT) >>> 0 : hash32(SEED_TEXT);
const rngFor = (...parts) => mulberry32(hash32([SEED, ...parts].join('/')));

// ---------------------------------------------------------------------------------------------
// State of the run

const startedAt = Date.now();
const workDir = mkdtempSync(join(tmpdir(), 'crash-test-'));
const dbFile = join(workDir, 'orders.db');
/**
 * The service runs from a copy of dist/ taken at the start (with node_modules linked), so a
 * rebuild of dist/ by someone else during the run cannot pull the build from under it.
 */
const APP_DIR = join(workDir, 'app');
const MAIN = join(APP_DIR, 'dist', 'main.js');
/** order id -> the items the client sent, for every order answered 202 */
const accepted = new Map();
const acceptedIds = [];
/** orders whose cancel was answered 200 */
const cancelled = new Set();
const stats = {
  cycles: 0,
  crashCycles: 0,
  scriptKills: 0,
  selfKills: 0,
  selfKillsBeforeReady: 0,
  unexpectedExits: 0,
  cancelRequests: 0,
  cancel409: 0,
};
/** { category, message } */
const violations = [];
const violate = (category, message) => violations.push({ category, message });
/** The running service, if any. */
let current;
/** Factor on the planned crash probability; see CRASH_PROBABILITY_MIN. */
let crashScale = 1;

// ---------------------------------------------------------------------------------------------
// The service as a child process

function serviceEnv(port, rng, crash) {
  // Every variable the service reads is set here (empty means its default), so nothing leaks in
  // from the environment the script runs in.
  const env = { ...process.env, NO_COLOR: '1' };
  for (const name of SERVICE_VARS) env[name] = '';
  Object.assign(env, {
    PORT: String(port),
    DATABASE_URL: `sqlite:${dbFile}`,
    PAYMENT_LATENCY_MS: String(rng.int(20, 50)),
    PAYMENT_FAILURE_RATE: '0.2',
    PAYMENT_TRANSIENT_FAILURE_RATE: '0.1',
    NOTIFICATION_LATENCY_MS: '5',
    RANDOM_SEED: `crash-test-${SEED}`,
    RETRY_BASE_DELAY_MS: '20',
    DISPATCH_POLL_MS: '200',
  });
  if (crash) {
    env.CRASH_POINTS = CRASH_POINTS;
    env.CRASH_PROBABILITY = crash.probability.toPrecision(3);
  }
  return env;
}

function startService(name, env) {
  const logPath = join(workDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [MAIN], { cwd: APP_DIR, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const service = {
    child,
    logPath,
    base: `http://127.0.0.1:${env.PORT}`,
    /** the signal the script sent, if any */
    sentSignal: undefined,
    /** { code, signal } once it exited */
    exit: undefined,
  };
  service.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      service.exit = { code, signal };
      resolve(service.exit);
    });
    child.once('error', (error) => {
      service.exit = { code: null, signal: null, error };
      resolve(service.exit);
    });
  });
  current = service;
  return service;
}

function signal(service, name) {
  if (service.exit) return;
  service.sentSignal ??= name;
  service.child.kill(name);
}

function killCurrentChild() {
  if (current && !current.exit) {
    try {
      current.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function logTail(service, lines = 15) {
  if (!existsSync(service.logPath)) return '';
  const text = readFileSync(service.logPath, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** One request; null when the connection failed (the service died, or is dying). */
async function send(base, method, path, body, timeoutMs = 10_000) {
  try {
    const init = { method, signal: AbortSignal.timeout(timeoutMs) };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await fetch(base + path, init);
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text };
  } catch {
    return null;
  }
}

/** A GET that must succeed (the service is expected to be up). */
async function getJson(base, path) {
  const response = await send(base, 'GET', path);
  if (!response) throw new Error(`GET ${path}: no answer`);
  if (response.status !== 200) {
    throw new Error(`GET ${path}: ${response.status} ${response.text.slice(0, 200)}`);
  }
  return response.json;
}

/** Polls GET /inventory until the service answers; false if it died first. */
async function waitReady(service) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.exit) return false;
    const response = await send(service.base, 'GET', '/inventory', undefined, 1000);
    if (response?.status === 200) return true;
    await Promise.race([delay(50), service.exited]);
  }
  if (service.exit) return false;
  throw new Error(
    `the service did not answer within ${READY_TIMEOUT_MS} ms; log ${service.logPath}:\n` +
      logTail(service),
  );
}

// ---------------------------------------------------------------------------------------------
// Load

function randomOrder(rng, customer) {
  const lines = rng.int(1, 3);
  const products = [...PRODUCTS];
  const items = [];
  // Most orders take the bulk product alone, so they can complete after the rest sold out.
  if (rng() < 0.6) products.splice(0, products.length, BULK.productId);
  for (let i = 0; i < lines && products.length > 0; i++) {
    const [productId] = products.splice(rng.int(0, products.length - 1), 1);
    items.push({ productId, quantity: rng.int(1, 3) });
  }
  const body = { customerId: `customer-${customer}`, items };
  if (rng() < 0.7) body.customerEmail = `customer-${customer}@example.com`;
  return body;
}

async function cancel(run, orderId) {
  stats.cancelRequests++;
  const response = await send(run.service.base, 'POST', `/orders/${orderId}/cancel`, {
    reason: 'changed my mind',
  });
  if (!response) return;
  if (response.status === 200) {
    cancelled.add(orderId);
  } else if (response.status === 409) {
    stats.cancel409++;
  } else if (!run.service.exit) {
    violate('http', `POST /orders/${orderId}/cancel answered ${response.status}: ${response.text}`);
  }
}

async function clientLoop(run, client) {
  const rng = rngFor('cycle', run.cycle, 'client', client);
  const pending = [];
  while (!run.stop) {
    const body = randomOrder(rng, rng.int(1, 40));
    const response = await send(run.service.base, 'POST', '/orders', body);
    if (!response) {
      if (!run.stop) await delay(10);
      continue;
    }
    if (response.status === 202 && typeof response.json?.id === 'string') {
      accepted.set(response.json.id, body.items);
      acceptedIds.push(response.json.id);
      run.accepted++;
      if (!run.stop && rng() < CANCEL_RATE) {
        // Half the cancels chase the order just placed (it is somewhere in its workflow), half
        // pick any accepted order (most are finished: 409).
        const target = rng() < 0.5 ? response.json.id : rng.pick(acceptedIds);
        const wait = rng.int(0, 10);
        pending.push(delay(wait).then(() => (run.stop ? undefined : cancel(run, target))));
      }
    } else if (!run.service.exit) {
      violate('http', `POST /orders answered ${response.status}: ${response.text.slice(0, 300)}`);
    }
    if (!run.stop) await delay(rng.int(20, 80));
  }
  await Promise.all(pending);
}

// ---------------------------------------------------------------------------------------------
// Cycles

/** Creates the bulk product unless it exists (a PUT repeated after a crash would reset stock). */
async function ensureBulkProduct(service) {
  const existing = await send(service.base, 'GET', `/inventory/${BULK.productId}`, undefined, 2000);
  if (existing?.status === 200) return true;
  if (existing?.status !== 404) return false;
  const { productId, ...body } = BULK;
  const created = await send(service.base, 'PUT', `/inventory/${productId}`, body, 2000);
  return created?.status === 200;
}

async function runCycle(cycle, plan) {
  const port = await freePort();
  const rng = rngFor('cycle', cycle, 'service');
  const probability = plan.crash ? plan.probability * crashScale : 0;
  const crash = plan.crash ? { probability } : undefined;
  const service = startService(
    `cycle-${String(cycle).padStart(2, '0')}`,
    serviceEnv(port, rng, crash),
  );
  const run = { cycle, service, stop: false, accepted: 0 };
  const bootStart = Date.now();
  const ready = await waitReady(service);
  const readyAt = Date.now();
  let loops = [];
  let outcome;
  if (ready && (await ensureBulkProduct(service))) {
    loops = Array.from({ length: CLIENTS }, (_, client) => clientLoop(run, client));
    const limit = plan.crash ? CRASH_CYCLE_CAP_MS : plan.killAfterMs;
    const first = await Promise.race([
      service.exited.then(() => 'exited'),
      delay(limit, 'timer', { ref: false }),
    ]);
    if (first === 'timer') signal(service, 'SIGKILL');
  }
  const exit = await service.exited;
  const lived = Date.now() - readyAt;
  run.stop = true;
  await Promise.all(loops);

  if (exit.signal === 'SIGKILL' && service.sentSignal === 'SIGKILL') {
    stats.scriptKills++;
    outcome = `killed by the script ${lived} ms after ready`;
  } else if (exit.signal === 'SIGKILL') {
    stats.selfKills++;
    if (!ready) stats.selfKillsBeforeReady++;
    outcome = ready
      ? `killed itself at a crash point ${lived} ms after ready`
      : `killed itself at a crash point while starting (${readyAt - bootStart} ms)`;
  } else {
    stats.unexpectedExits++;
    outcome = `exited unexpectedly (code ${exit.code}, signal ${exit.signal})`;
    const message = `cycle ${cycle}: the service ${outcome}; log ${service.logPath}:\n${logTail(service)}`;
    // A service that cannot even start will not start in the next cycles either.
    if (!ready) throw new Error(message);
    violate('run', message);
  }
  if (plan.crash && exit.signal === 'SIGKILL') {
    const capped = service.sentSignal === 'SIGKILL';
    const quick = !ready || lived < QUICK_DEATH_MS;
    const [low, high] = CRASH_SCALE_LIMITS;
    if (capped) crashScale = Math.min(high, crashScale * 2);
    else if (quick) crashScale = Math.max(low, crashScale * 0.6);
  }
  const mode = plan.crash
    ? `crash points p=${probability.toPrecision(3)}`
    : `kill at ${plan.killAfterMs} ms`;
  console.log(
    `cycle ${String(cycle).padStart(2)}/${CYCLES} [${mode}]: ${outcome}; ` +
      `${run.accepted} orders accepted (total ${accepted.size})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Final run: let every order finish

async function listAllOrders(base) {
  const orders = [];
  let cursor = null;
  do {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await getJson(base, `/orders?limit=100${query}`);
    orders.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return orders;
}

/** A terminal order whose final notification is sent and whose payment is settled for good. */
async function isSettled(base, order) {
  if (!TERMINAL.has(order.status)) return false;
  const id = encodeURIComponent(order.id);
  const notifications = await getJson(base, `/notifications?orderId=${id}`);
  if (!notifications.some((n) => n.status === 'SENT')) return false;
  const payments = await getJson(base, `/payments?orderId=${id}`);
  return payments.every((p) =>
    order.status === 'COMPLETED'
      ? p.status === 'COMPLETED'
      : ['FAILED', 'REFUNDED'].includes(p.status),
  );
}

function undeliveredEvents() {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT COUNT(*) AS n FROM event_log WHERE delivered = 0').get().n;
  } finally {
    db.close();
  }
}

/**
 * Polls until every order is terminal with its notification sent and payment settled, no stock is
 * reserved and the event log is fully delivered; false after the deadline.
 */
async function waitSettled(service) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const settled = new Set();
  let state = '';
  for (;;) {
    const orders = await listAllOrders(service.base);
    const open = orders.filter((o) => !settled.has(o.id));
    for (let i = 0; i < open.length; i += 16) {
      const batch = open.slice(i, i + 16);
      const done = await Promise.all(batch.map((o) => isSettled(service.base, o)));
      batch.forEach((o, k) => done[k] && settled.add(o.id));
    }
    const unsettled = orders.length - orders.filter((o) => settled.has(o.id)).length;
    const inventory = await getJson(service.base, '/inventory');
    const reserved = inventory.reduce((sum, p) => sum + p.reserved, 0);
    const undelivered = unsettled === 0 && reserved === 0 ? undeliveredEvents() : -1;
    state = `${unsettled} of ${orders.length} orders unsettled, ${reserved} units reserved, ${undelivered} events undelivered`;
    if (unsettled === 0 && reserved === 0 && undelivered === 0) return { ok: true, orders };
    if (Date.now() > deadline) return { ok: false, state };
    await delay(250);
  }
}

async function finish() {
  const port = await freePort();
  const service = startService('final', serviceEnv(port, rngFor('final'), undefined));
  const died = () =>
    new Error(
      `the final service exited (code ${service.exit.code}, signal ${service.exit.signal}) ` +
        `before the script stopped it; log ${service.logPath}:\n${logTail(service)}`,
    );
  if (!(await waitReady(service))) throw died();
  const waitStart = Date.now();
  const result = await waitSettled(service).catch(async (error) => {
    // A request fails a moment before the exit is reported: wait for it briefly.
    await Promise.race([service.exited, delay(1000, undefined, { ref: false })]);
    throw service.exit ? died() : error;
  });
  if (result.ok) {
    console.log(
      `final run: ${result.orders.length} orders settled in ${Date.now() - waitStart} ms`,
    );
  } else {
    violate('run', `not settled after ${SETTLE_TIMEOUT_MS} ms: ${result.state}`);
    console.log(`final run: NOT settled after ${SETTLE_TIMEOUT_MS} ms (${result.state})`);
  }
  signal(service, 'SIGTERM');
  const exit = await Promise.race([
    service.exited,
    delay(SHUTDOWN_WAIT_MS, undefined, { ref: false }),
  ]);
  if (!exit) {
    signal(service, 'SIGKILL');
    await service.exited;
    violate('run', `the service did not exit within ${SHUTDOWN_WAIT_MS} ms of SIGTERM`);
  } else if (exit.code !== 0) {
    violate(
      'run',
      `SIGTERM: the service exited with code ${exit.code}, signal ${exit.signal} (expected 0):\n` +
        logTail(service),
    );
  } else {
    console.log('final run: SIGTERM, exit code 0');
  }
}

// ---------------------------------------------------------------------------------------------
// Invariants on the database file

function checkInvariants() {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return checkDatabase(db);
  } finally {
    db.close();
  }
}

function checkDatabase(db) {
  const orders = db.prepare('SELECT id, status, items FROM orders').all();
  const products = db.prepare('SELECT product_id, available, reserved, sold FROM products').all();
  const payments = db.prepare('SELECT payment_id, order_id, status FROM payments').all();
  const charges = db.prepare('SELECT idempotency_key, status FROM gateway_charges').all();
  const notifications = db.prepare('SELECT order_id, kind, status FROM notifications').all();
  const reservations = db.prepare('SELECT order_id, status FROM reservations').all();
  const events = db
    .prepare(
      'SELECT seq, event_id, type, stream_id, payload, causation_id FROM event_log ORDER BY seq',
    )
    .all();
  const deliveries = db
    .prepare("SELECT status, COUNT(*) AS n FROM deliveries WHERE status <> 'DONE' GROUP BY status")
    .all();

  const orderById = new Map(orders.map((o) => [o.id, o]));
  const byStatus = { COMPLETED: 0, FAILED: 0, CANCELLED: 0 };

  // Lost orders: every accepted order exists, is what was sent, and every order is terminal.
  let lost = 0;
  for (const [id, items] of accepted) {
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
    if (TERMINAL.has(order.status)) byStatus[order.status]++;
    else {
      lost++;
      violate('lost', `order ${order.id} is still ${order.status}`);
    }
  }
  for (const id of cancelled) {
    const status = orderById.get(id)?.status;
    if (status !== 'CANCELLED') {
      violate('cancel', `order ${id}: its cancel was answered 200 but it is ${status}`);
    }
  }

  // Charges: the gateway's ledger (keyed by payments.payment_id) against payments and orders.
  const chargeProblems = chargeViolations(orders, payments, charges);
  for (const { category, message } of chargeProblems) violate(category, message);
  const doubleCharges = chargeProblems.filter((v) => v.category === 'double').length;

  // Stock.
  const soldByProduct = Object.fromEntries(PRODUCTS.map((p) => [p, 0]));
  for (const order of orders) {
    if (order.status !== 'COMPLETED') continue;
    for (const line of JSON.parse(order.items)) {
      soldByProduct[line.productId] = (soldByProduct[line.productId] ?? 0) + line.quantity;
    }
  }
  for (const product of products) {
    const { product_id: id } = product;
    const [available, reserved, sold] = [product.available, product.reserved, product.sold].map(
      Number,
    );
    const initial = INITIAL_STOCK[id];
    if (initial === undefined) {
      violate('stock', `unexpected product ${id}`);
      continue;
    }
    if (available < 0 || reserved < 0 || sold < 0) {
      violate(
        'stock',
        `${id}: negative stock (available ${available}, reserved ${reserved}, sold ${sold})`,
      );
    }
    if (available + reserved + sold !== initial) {
      violate(
        'stock',
        `${id}: available ${available} + reserved ${reserved} + sold ${sold} != ${initial}`,
      );
    }
    if (reserved !== 0) violate('stock', `${id}: ${reserved} units still reserved`);
    if (sold !== soldByProduct[id]) {
      violate('stock', `${id}: sold ${sold}, but COMPLETED orders hold ${soldByProduct[id]}`);
    }
  }
  for (const reservation of reservations) {
    const status = orderById.get(reservation.order_id)?.status;
    for (const problem of reservationProblems(reservation, status)) violate('stock', problem);
  }

  // Notifications: one row per order, SENT, of the right kind; one notification event per order.
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

  // Events of each order: in order, no duplicates, causes before effects.
  const seqByEventId = new Map(events.map((e) => [e.event_id, e.seq]));
  let eventViolations = 0;
  for (const [streamId, list] of eventsByStream) {
    const order = orderById.get(streamId);
    const problems = eventHistoryProblems(list, order, seqByEventId);
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

  const chargeCount = charges.filter(
    (c) => c.status === 'SUCCEEDED' || c.status === 'REFUNDED',
  ).length;
  return {
    ordersInDb: orders.length,
    byStatus,
    lost,
    doubleCharges,
    charges: chargeCount,
    refunds: charges.filter((c) => c.status === 'REFUNDED').length,
    declined: charges.filter((c) => c.status === 'DECLINED').length,
    notificationViolations,
    eventViolations,
    events: events.length,
    undelivered:
      events.length - db.prepare('SELECT COUNT(*) AS n FROM event_log WHERE delivered = 1').get().n,
    deliveries: Object.fromEntries(deliveries.map((d) => [d.status, d.n])),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

/** Names, sizes and times of every file in dist/; null while dist/main.js is missing. */
function buildSignature() {
  if (!existsSync(join(BUILD, 'main.js'))) return null;
  try {
    return readdirSync(BUILD, { recursive: true })
      .map(String)
      .sort()
      .map((name) => {
        const stat = statSync(join(BUILD, name));
        return `${name}:${stat.size}:${stat.mtimeMs}`;
      })
      .join('\n');
  } catch {
    return null; // a file vanished while listing: a build is under way
  }
}

/**
 * Copies dist/ once it has stopped changing (another `nest build` in the same checkout first
 * deletes dist/, then writes it again), and checks that it did not change during the copy.
 */
async function snapshotBuild() {
  mkdirSync(APP_DIR);
  writeFileSync(join(APP_DIR, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(APP_DIR, 'node_modules'), 'dir');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const before = buildSignature();
    await delay(1000);
    if (before === null || buildSignature() !== before) continue;
    rmSync(join(APP_DIR, 'dist'), { recursive: true, force: true });
    cpSync(BUILD, join(APP_DIR, 'dist'), { recursive: true });
    if (buildSignature() === before) return;
  }
  throw new Error(
    `could not take a stable copy of ${BUILD} within 60 s (missing, or rebuilt all the time); ` +
      'run `nest build` first',
  );
}

function planCycles() {
  const rng = rngFor('plan');
  return Array.from({ length: CYCLES }, (_, index) => {
    // Alternate, so both kinds of death are always well represented.
    const crash = index % 2 === 1;
    return crash
      ? {
          crash,
          probability:
            CRASH_PROBABILITY_MIN + rng() * (CRASH_PROBABILITY_MAX - CRASH_PROBABILITY_MIN),
        }
      : { crash, killAfterMs: rng.int(300, 2000) };
  });
}

/** Lines the service logged at level ERROR, over every cycle (for information). */
function loggedErrors() {
  return readdirSync(workDir)
    .filter((name) => name.endsWith('.log'))
    .reduce(
      (n, name) =>
        n +
        readFileSync(join(workDir, name), 'utf8')
          .split('\n')
          .filter((l) => / ERROR /.test(l)).length,
      0,
    );
}

function count(category) {
  return violations.filter((v) => v.category === category).length;
}

async function main() {
  if (!Number.isInteger(CYCLES) || CYCLES < 1) {
    throw new Error('CRASH_CYCLES must be a positive integer');
  }
  await snapshotBuild();
  console.log(`crash test: seed ${SEED_TEXT}, ${CYCLES} cycles, folder ${workDir}`);
  const plan = planCycles();
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    stats.cycles++;
    if (plan[cycle - 1].crash) stats.crashCycles++;
    await runCycle(cycle, plan[cycle - 1]);
  }
  await finish();
  const figures = checkInvariants();
  const kills = stats.scriptKills + stats.selfKills;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const other =
    violations.length -
    ['lost', 'double', 'charges', 'stock', 'notifications', 'events'].reduce(
      (n, c) => n + count(c),
      0,
    );
  const lines = [
    ['seed', SEED_TEXT],
    ['cycles', `${stats.cycles} (${stats.crashCycles} with crash points)`],
    ['kills by the script (SIGKILL)', stats.scriptKills],
    [
      'self-kills at crash points',
      `${stats.selfKills}${stats.selfKillsBeforeReady ? ` (${stats.selfKillsBeforeReady} while starting)` : ''}`,
    ],
    ['unexpected exits', stats.unexpectedExits],
    ['orders accepted (202)', accepted.size],
    [
      'orders in the database',
      `${figures.ordersInDb} (${figures.ordersInDb - accepted.size} committed without an answer)`,
    ],
    [
      'completed / failed / cancelled',
      `${figures.byStatus.COMPLETED} / ${figures.byStatus.FAILED} / ${figures.byStatus.CANCELLED}`,
    ],
    [
      'cancel requests (200 / 409)',
      `${stats.cancelRequests} (${cancelled.size} / ${stats.cancel409})`,
    ],
    [
      'charges / refunds / declined',
      `${figures.charges} / ${figures.refunds} / ${figures.declined}`,
    ],
    ['events in the log (undelivered)', `${figures.events} (${figures.undelivered})`],
    [
      'deliveries retrying / dead',
      `${figures.deliveries.RETRY ?? 0} / ${figures.deliveries.DEAD ?? 0}`,
    ],
    ['lost orders', figures.lost],
    ['double charges', figures.doubleCharges],
    ['other charge violations', count('charges')],
    ['oversold / negative / leaked stock', count('stock')],
    ['notification violations', figures.notificationViolations],
    ['event-order violations', figures.eventViolations],
    ['other violations', other],
    ['error lines in the service logs', loggedErrors()],
    ['duration', `${seconds} s`],
  ];
  console.log('\nsummary');
  for (const [name, value] of lines) console.log(`  ${name.padEnd(36)}${value}`);

  let failed = violations.length > 0;
  if (violations.length > 0) {
    console.log(`\n${violations.length} violations (first 20):`);
    for (const v of violations.slice(0, 20)) console.log(`  [${v.category}] ${v.message}`);
  }
  if (kills < MIN_KILLS) {
    failed = true;
    console.log(`\nonly ${kills} kills happened; the test needs at least ${MIN_KILLS}`);
  }
  if (accepted.size < MIN_ACCEPTED) {
    failed = true;
    console.log(
      `\nonly ${accepted.size} orders were accepted; the test needs at least ${MIN_ACCEPTED}`,
    );
  }
  if (failed) {
    console.log(`\nFAIL (database and service logs kept in ${workDir})`);
    process.exitCode = 1;
  } else {
    console.log('\nPASS: every invariant holds');
    if (KEEP) console.log(`database and service logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

process.on('exit', killCurrentChild);
for (const name of ['SIGINT', 'SIGTERM']) {
  process.on(name, () => {
    killCurrentChild();
    console.log(`\n${name}: stopped (folder ${workDir})`);
    process.exit(1);
  });
}
const crashed = (error) => {
  killCurrentChild();
  console.log(`\ncrash test error: ${error instanceof Error ? error.stack : String(error)}`);
  console.log(`FAIL (folder ${workDir})`);
  process.exit(1);
};
process.on('uncaughtException', crashed);
process.on('unhandledRejection', crashed);

await main().catch(crashed);
