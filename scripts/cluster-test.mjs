// oxlint-disable no-console -- this script reports through its progress lines and summary.
/**
 * Cluster test: three instances of the built service (dist/main.js) on one PostgreSQL database
 * and one RabbitMQ broker take a few thousand orders spread over them, while one instance is
 * killed (SIGKILL) and restarted, the broker drops every client connection once, and PostgreSQL
 * closes every connection to the database once (as a restart or a failover would). When every
 * order has settled the instances are stopped with SIGTERM and the invariants are checked in
 * PostgreSQL: nothing lost, nothing charged twice, no oversell, one notification per order, and
 * a consistent event history per order.
 *
 *   npm run test:cluster                    (checks the servers and builds first)
 *   CLUSTER_ORDERS=500 node scripts/cluster-test.mjs
 *
 * Environment: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the test
 * creates its own database next to it and drops it at the end), TEST_AMQP_URL (default
 * amqp://guest:guest@127.0.0.1:5672; the test uses its own exchange and queue prefix and deletes
 * them at the end), CLUSTER_ORDERS (default 2000 regular orders, plus the scarce-stock bursts),
 * CLUSTER_SEED (the clients' plan), KEEP_DB=1 keeps the database, the broker objects and the
 * temporary folder with the service logs. Needs `rabbitmqctl` on the PATH.
 * Exits 0 only when every invariant holds.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
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
import { freePort, withClient } from './lib/processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = join(ROOT, 'dist');

const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const AMQP_URL = process.env.TEST_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const ORDERS = Number(process.env.CLUSTER_ORDERS || 2000);
const SEED_TEXT = process.env.CLUSTER_SEED || '20261122';
const KEEP = process.env.KEEP_DB === '1';

const INSTANCES = 3;
const CLIENTS = 16;
const CANCEL_RATE = 0.06;
const KILL_AT = 0.4;
const BROKER_RESTART_AT = 0.7;
const DATABASE_CUT_AT = 0.55;
const RESTART_AFTER_MS = 2000;
const READY_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** A request is retried on other instances this long (past the 30 s lease of a key in flight). */
const RETRY_DEADLINE_MS = 75_000;
const SETTLE_TIMEOUT_MS = 180_000;
const SHUTDOWN_WAIT_MS = 20_000;

/** Stock set before the load; scarce products get a burst of concurrent one-unit orders. */
const STOCK = {
  'product-1': { name: 'Widget', unitPrice: '50.00', available: 2000 },
  'product-2': { name: 'Gadget', unitPrice: '75.00', available: 1400 },
  'product-3': { name: 'Gizmo', unitPrice: '20.00', available: 600 },
  'scarce-1': { name: 'Scarce one', unitPrice: '10.00', available: 30 },
  'scarce-2': { name: 'Scarce two', unitPrice: '12.50', available: 20 },
};
const REGULAR = ['product-1', 'product-2', 'product-3'];
/** [progress share at which it is sent, product, orders, extra line of product-1 on every nth] */
const BURSTS = [
  { at: 0.2, productId: 'scarce-1', orders: 100, extraEvery: 0 },
  { at: 0.45, productId: 'scarce-2', orders: 60, extraEvery: 2 },
];

const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];
const DELAY_BUCKETS_MS = [50, 250, 1000, 5000, 30000, 120000];
const CATEGORIES = [
  ['lost', 'lost or unfinished orders'],
  ['idempotency', 'idempotency (duplicate orders)'],
  ['cancel', 'cancels answered 200 not CANCELLED'],
  ['double', 'double charges'],
  ['charges', 'other charge violations'],
  ['stock', 'oversold / negative / leaked stock'],
  ['notifications', 'notification violations'],
  ['events', 'event-history violations'],
  ['dead', 'dead letters'],
  ['http', 'unexpected HTTP answers'],
  ['run', 'run (exits, settling)'],
];

// ---------------------------------------------------------------------------------------------
// Seeded randomness (the clients' plan; timing still varies between runs)

const rngFor = (...parts) => mulberry32(hash32([SEED_TEXT, ...parts].join('/')));

// ---------------------------------------------------------------------------------------------
// State of the run

const runId = randomBytes(4).toString('hex');
const DB_NAME = `orders_cluster_${runId}`;
const PREFIX = `cluster-${runId}`;
const SERVICE_DB_URL = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();
const workDir = mkdtempSync(join(tmpdir(), 'cluster-test-'));
const APP_DIR = join(workDir, 'app');
const MAIN = join(APP_DIR, 'dist', 'main.js');

/** order id -> { items, key } for every order answered 202 */
const accepted = new Map();
const acceptedIds = [];
/** orders whose cancel was answered 200 */
const cancelled = new Set();
const stats = {
  sent: 0,
  burstSent: 0,
  replayed: 0,
  retries: 0,
  abandoned: 0,
  inFlight409: 0,
  keysInFlight: 0,
  cancelRequests: 0,
  cancel409: 0,
  cancelUnknown: 0,
  kills: 0,
  restarts: 0,
  brokerRestarts: 0,
  databaseCuts: 0,
  connectionsClosed: 0,
  http5xx: 0,
  http503: 0,
  unexpectedExits: 0,
};
/** Milliseconds of every answered POST /orders. */
const postLatencies = [];
/** { category, message } */
const violations = [];
const violate = (category, message) => violations.push({ category, message });
const instances = [];
let databaseCreated = false;
let cleanedUp = false;

pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

// ---------------------------------------------------------------------------------------------
// The service instances as child processes

function serviceEnv(port) {
  // Every variable the service reads is set here (empty means its default), so nothing leaks in
  // from the environment the script runs in.
  const env = { ...process.env, NO_COLOR: '1' };
  for (const name of SERVICE_VARS) env[name] = '';
  Object.assign(env, {
    PORT: String(port),
    DATABASE_URL: SERVICE_DB_URL,
    AMQP_URL,
    AMQP_PREFIX: PREFIX,
    LOG_LEVEL: 'warn',
    PAYMENT_LATENCY_MS: '20',
    NOTIFICATION_LATENCY_MS: '5',
    PAYMENT_FAILURE_RATE: '0.1',
    PAYMENT_TRANSIENT_FAILURE_RATE: '0.05',
    RANDOM_SEED: `cluster-${runId}`,
    RETRY_BASE_DELAY_MS: '20',
    RETRY_MAX_ATTEMPTS: '8',
    DISPATCH_POLL_MS: '200',
  });
  return env;
}

function startInstance(instance) {
  const fd = openSync(instance.logPath, 'a');
  const child = spawn(process.execPath, [MAIN], {
    cwd: APP_DIR,
    env: serviceEnv(instance.port),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  instance.child = child;
  instance.exit = undefined;
  instance.sentSignal = undefined;
  instance.up = false;
  instance.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      instance.exit = { code, signal };
      instance.up = false;
      if (!instance.sentSignal) {
        stats.unexpectedExits++;
        violate('run', `${instance.name} exited on its own (code ${code}):\n${logTail(instance)}`);
      }
      resolve(instance.exit);
    });
    child.once('error', (error) => {
      instance.exit = { code: null, signal: null, error };
      instance.up = false;
      resolve(instance.exit);
    });
  });
  return instance;
}

function signal(instance, name) {
  if (!instance.child || instance.exit) return;
  instance.sentSignal = name;
  instance.child.kill(name);
}

function killChildren() {
  for (const instance of instances) {
    if (instance.child && !instance.exit) {
      try {
        instance.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function logTail(instance, lines = 15) {
  if (!existsSync(instance.logPath)) return '';
  return readFileSync(instance.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Polls GET /inventory until the instance answers; throws if it died or took too long. */
async function waitReady(instance) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (instance.exit) break;
    const response = await send(instance, 'GET', '/inventory', undefined, undefined, 1000);
    if (response?.status === 200) {
      instance.up = true;
      return;
    }
    await Promise.race([delay(100), instance.exited]);
  }
  throw new Error(
    instance.exit
      ? `${instance.name} exited while starting (code ${instance.exit.code}, signal ` +
          `${instance.exit.signal}); log ${instance.logPath}:\n${logTail(instance)}`
      : `${instance.name} did not answer within ${READY_TIMEOUT_MS} ms; log ` +
          `${instance.logPath}:\n${logTail(instance)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** One request to one instance; null when there was no answer (refused, reset, timed out). */
async function send(instance, method, path, body, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
  const init = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json', ...headers };
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(`http://127.0.0.1:${instance.port}${path}`, init);
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text, headers: response.headers };
  } catch {
    return null;
  }
}

let roundRobin = 0;

/** The next live instance, round-robin, avoiding `avoid` when another one is live. */
function pickInstance(avoid) {
  const live = instances.filter((i) => i.up);
  if (live.length === 0) return undefined;
  const others = live.filter((i) => i !== avoid);
  const choice = others.length > 0 ? others : live;
  return choice[roundRobin++ % choice.length];
}

/**
 * Sends a request to the next live instance; with no answer, a 5xx, or an Idempotency-Key still
 * in flight (the instance that had it died), it is sent again to another one.
 * Returns { response, attempts, unanswered } (response null after the deadline).
 */
async function request(method, path, body, headers, { returnInFlight = false } = {}) {
  const deadline = Date.now() + RETRY_DEADLINE_MS;
  let previous;
  let unanswered = 0;
  for (let attempt = 1; ; attempt++) {
    const instance = pickInstance(previous);
    if (!instance) {
      if (Date.now() > deadline) return { response: null, attempts: attempt, unanswered };
      await delay(50);
      continue;
    }
    previous = instance;
    instance.requests++;
    const sentAt = Date.now();
    const response = await send(instance, method, path, body, headers);
    if (response && method === 'POST' && path === '/orders')
      postLatencies.push(Date.now() - sentAt);
    let retry = false;
    if (!response) {
      unanswered++;
      retry = true;
    } else if (response.status === 503 && response.json?.code === 'DATABASE_UNAVAILABLE') {
      // The database connection was lost under the request: nothing was done, ask again.
      stats.http503++;
      retry = true;
    } else if (response.status >= 500) {
      stats.http5xx++;
      violate(
        'http',
        `${method} ${path} on ${instance.name} answered ${response.status}: ` +
          response.text.slice(0, 300),
      );
      retry = true;
    } else if (response.status === 409 && response.json?.code === 'IDEMPOTENCY_KEY_IN_FLIGHT') {
      stats.inFlight409++;
      if (returnInFlight) return { response, attempts: attempt, unanswered };
      retry = true;
    }
    if (!retry) return { response, attempts: attempt, unanswered };
    stats.retries++;
    if (Date.now() > deadline) return { response, attempts: attempt, unanswered };
    await delay(response?.status === 409 ? 500 : 20);
  }
}

// ---------------------------------------------------------------------------------------------
// Load

function regularOrder(rng, customer) {
  const lines = rng.int(1, 3);
  const products = [...REGULAR];
  const items = [];
  for (let i = 0; i < lines; i++) {
    const [productId] = products.splice(rng.int(0, products.length - 1), 1);
    items.push({ productId, quantity: rng.int(1, 2) });
  }
  const body = { customerId: `customer-${customer}`, items };
  if (rng() < 0.7) body.customerEmail = `customer-${customer}@example.com`;
  return body;
}

/**
 * Requests whose Idempotency-Key is held by an instance that died: the key's lease (30 s) has to
 * run out before a retry is taken, so they are retried in the background while the client goes on.
 */
const background = [];

/** Places one order with an Idempotency-Key; its id when it was accepted. */
async function placeOrder(body, key, inBackground = false) {
  if (!inBackground) stats.sent++;
  const { response, unanswered } = await request(
    'POST',
    '/orders',
    body,
    { 'idempotency-key': key },
    { returnInFlight: !inBackground },
  );
  if (response?.status === 409 && response.json?.code === 'IDEMPOTENCY_KEY_IN_FLIGHT') {
    if (!inBackground) {
      stats.keysInFlight++;
      background.push(delay(1000).then(() => placeOrder(body, key, true)));
      return undefined;
    }
  }
  if (!response) {
    stats.abandoned++;
    violate('http', `POST /orders (key ${key}) got no answer from any instance (${unanswered}×)`);
    return undefined;
  }
  if (response.status === 202 && typeof response.json?.id === 'string') {
    const { id } = response.json;
    if (response.headers.get('idempotent-replayed') === 'true') stats.replayed++;
    const known = accepted.get(id);
    if (known && known.key !== key) {
      violate('idempotency', `order ${id} was answered for keys ${known.key} and ${key}`);
    }
    if (!known) {
      accepted.set(id, { items: body.items, key });
      acceptedIds.push(id);
    }
    return id;
  }
  violate('http', `POST /orders (key ${key}) answered ${response.status}: ${response.text}`);
  return undefined;
}

async function cancel(orderId) {
  stats.cancelRequests++;
  const { response, unanswered } = await request('POST', `/orders/${orderId}/cancel`, {
    reason: 'changed my mind',
  });
  if (response?.status === 200) {
    cancelled.add(orderId);
  } else if (response?.status === 409 && response.json?.code === 'ORDER_NOT_CANCELLABLE') {
    // An earlier attempt without an answer may have cancelled it: nothing to assert then.
    if (unanswered > 0) stats.cancelUnknown++;
    else stats.cancel409++;
  } else if (!response) {
    stats.cancelUnknown++;
  } else {
    violate(
      'http',
      `POST /orders/${orderId}/cancel answered ${response.status}: ${response.text.slice(0, 300)}`,
    );
  }
}

const load = { next: 0, done: 0, stop: false };

async function clientLoop(client) {
  const rng = rngFor('client', client);
  const pending = [];
  for (;;) {
    const index = load.next++;
    if (index >= ORDERS) break;
    const body = regularOrder(rng, rng.int(1, 200));
    const id = await placeOrder(body, `${PREFIX}-order-${index}`);
    load.done++;
    if (id && rng() < CANCEL_RATE) {
      // Half the cancels chase the order just placed, at some moment of its workflow (some race
      // the payment), half pick any accepted order (most are finished: 409).
      const target = rng() < 0.5 ? id : rng.pick(acceptedIds);
      pending.push(delay(rng.int(0, 1500)).then(() => cancel(target)));
    }
    await delay(rng.int(0, 10));
  }
  await Promise.all(pending);
}

/** Orders of one unit of a scarce product, all sent at the same moment across the instances. */
async function burst({ productId, orders, extraEvery }, index) {
  const sends = [];
  for (let i = 0; i < orders; i++) {
    const items = [{ productId, quantity: 1 }];
    if (extraEvery > 0 && i % extraEvery === 0) items.push({ productId: 'product-1', quantity: 1 });
    const body = { customerId: `burst-${index}-${i}`, items };
    stats.burstSent++;
    sends.push(placeOrder(body, `${PREFIX}-burst-${index}-${i}`));
  }
  const ids = await Promise.all(sends);
  console.log(
    `  burst: ${orders} concurrent orders for ${productId}, ${ids.filter(Boolean).length} accepted`,
  );
}

function rabbitmqctl(...args) {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Kills one instance with SIGKILL and starts it again on the same port after a while. */
async function killAndRestart(instance) {
  instance.up = false;
  signal(instance, 'SIGKILL');
  await instance.exited;
  stats.kills++;
  console.log(`  ${elapsed()} SIGKILL ${instance.name} (port ${instance.port})`);
  await delay(RESTART_AFTER_MS);
  startInstance(instance);
  await waitReady(instance);
  stats.restarts++;
  console.log(`  ${elapsed()} ${instance.name} restarted on port ${instance.port} and answering`);
}

async function restartBrokerConnections() {
  await rabbitmqctl('close_all_connections', 'cluster test');
  stats.brokerRestarts++;
  console.log(`  ${elapsed()} rabbitmqctl close_all_connections: every connection closed`);
}

/** PostgreSQL closes every connection to the test's database, as a restart or failover would. */
async function closeDatabaseConnections() {
  const closed = await withClient(ADMIN_URL, (c) =>
    c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [DB_NAME],
    ),
  );
  stats.databaseCuts++;
  stats.connectionsClosed += closed.rowCount ?? 0;
  console.log(
    `  ${elapsed()} pg_terminate_backend: ${closed.rowCount} database connections closed`,
  );
}

/** Watches the progress and fires the disruptions and bursts at their moments. */
async function conductor() {
  const tasks = [];
  const fired = new Set();
  let restarted = Promise.resolve();
  const at = (share, name, task) => {
    if (!fired.has(name) && load.done >= share * ORDERS) {
      fired.add(name);
      tasks.push(task());
    }
  };
  while (!load.stop) {
    BURSTS.forEach((b, i) => at(b.at, `burst-${i}`, () => burst(b, i)));
    at(KILL_AT, 'kill', () => (restarted = killAndRestart(instances[1])));
    // Once every instance is up again, so that all three lose their connections.
    at(DATABASE_CUT_AT, 'database', () => restarted.then(() => closeDatabaseConnections()));
    // Once every instance is up again, so the broker drops the connections of all three.
    at(BROKER_RESTART_AT, 'broker', () => restarted.then(() => restartBrokerConnections()));
    await delay(10);
  }
  await Promise.all(tasks);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function createDatabase() {
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE "${DB_NAME}"`));
  databaseCreated = true;
}

async function dropDatabase() {
  if (!databaseCreated) return;
  await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`));
}

async function queues() {
  const out = await rabbitmqctl('list_queues', '-q', '--no-table-headers', 'name', 'messages');
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name]) => name?.startsWith(`${PREFIX}.`))
    .map(([name, messages]) => ({ name, messages: Number(messages) }));
}

/**
 * Polls until every order is terminal with its notification sent and its payment settled, no
 * stock is reserved, the outbox is relayed and the test's queues are empty (no retry waiting, no
 * delivery under way); { ok: false, state } after the deadline.
 */
async function waitSettled(db) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let state = '';
  let lastPrint = 0;
  let emptyBefore = false;
  for (;;) {
    const {
      rows: [s],
    } = await db.query(`
      SELECT
        (SELECT count(*) FROM orders) AS orders,
        (SELECT count(*) FROM orders WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')) AS open,
        (SELECT count(*) FROM orders o WHERE NOT EXISTS (
           SELECT 1 FROM notifications n WHERE n.order_id = o.id AND n.status = 'SENT')) AS unnotified,
        (SELECT count(*) FROM orders o WHERE NOT EXISTS (
           SELECT 1 FROM event_log e WHERE e.stream_id = o.id
             AND e.type IN ('OrderConfirmationSent', 'OrderFailureNotificationSent'))) AS no_notice,
        (SELECT coalesce(sum(reserved), 0) FROM products) AS reserved,
        (SELECT count(*) FROM payments WHERE status = 'PENDING') AS pending_payments,
        (SELECT count(*) FROM event_log WHERE relayed = 0) AS unrelayed,
        (SELECT count(*) FROM deliveries WHERE status = 'RETRY') AS retrying`);
    const quiet =
      Number(s.open) === 0 &&
      Number(s.unnotified) === 0 &&
      Number(s.no_notice) === 0 &&
      Number(s.reserved) === 0 &&
      Number(s.pending_payments) === 0 &&
      Number(s.unrelayed) === 0;
    // A retry waits in a delay queue and a delivery under way is an unacked message, so empty
    // queues (ready + unacked, seen twice in a row) mean no work is left. Deliveries recorded as
    // RETRY are not waited for: they are reported after the run (see staleDeliveries).
    let queued = -1;
    if (quiet) {
      queued = (await queues())
        .filter((q) => q.name !== `${PREFIX}.dead-letters`)
        .reduce((n, q) => n + q.messages, 0);
    }
    state =
      `${s.orders} orders: ${s.open} open, ${s.unnotified} without a sent notification, ` +
      `${s.no_notice} without a notification event; ${s.reserved} units reserved, ` +
      `${s.pending_payments} payments pending, ${s.unrelayed} events unrelayed, ` +
      `${s.retrying} deliveries retrying, ${queued < 0 ? '?' : queued} messages queued`;
    if (quiet && queued === 0 && emptyBefore) return { ok: true, state };
    emptyBefore = quiet && queued === 0;
    if (Date.now() > deadline) return { ok: false, state };
    if (Date.now() - lastPrint > 10_000) {
      lastPrint = Date.now();
      console.log(`  ${elapsed()} settling: ${state}`);
    }
    await delay(emptyBefore ? 200 : 500);
  }
}

/** What holds the work up when it does not settle: open transactions and locked outbox rows. */
async function diagnoseStall(db) {
  const { rows: sessions } = await db.query(`
    SELECT pid, client_port, state, wait_event_type, wait_event,
           round(extract(epoch FROM now() - xact_start))::int AS xact_seconds,
           round(extract(epoch FROM now() - state_change))::int AS state_seconds,
           left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
    ORDER BY xact_start`);
  console.log(`  open transactions in ${DB_NAME}: ${sessions.length}`);
  for (const r of sessions) {
    console.log(
      `    pid ${r.pid} (client port ${r.client_port}) ${r.state}, transaction open ` +
        `${r.xact_seconds} s, state for ${r.state_seconds} s, wait ${r.wait_event_type ?? '-'}` +
        `/${r.wait_event ?? '-'}: ${r.query}`,
    );
  }
  await db.query('BEGIN');
  try {
    const {
      rows: [row],
    } = await db.query(`
      SELECT (SELECT count(*) FROM event_log WHERE relayed = 0) AS unrelayed,
             (SELECT count(*) FROM (SELECT seq FROM event_log WHERE relayed = 0
                                    FOR UPDATE SKIP LOCKED) t) AS free`);
    console.log(
      `  unrelayed outbox rows: ${row.unrelayed}, of which locked by another transaction: ` +
        `${row.unrelayed - row.free}`,
    );
  } finally {
    await db.query('ROLLBACK');
  }
  const { rows: types } = await db.query(`
    SELECT type, count(*)::int AS n, min(seq) AS first, max(seq) AS last
    FROM event_log WHERE relayed = 0 GROUP BY type ORDER BY min(seq)`);
  if (types.length > 0) {
    console.log(
      `  unrelayed by type: ${types.map((t) => `${t.type} ${t.n} (#${t.first}..#${t.last})`).join(', ')}`,
    );
  }
}

function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---------------------------------------------------------------------------------------------
// Invariants

async function checkInvariants(db, initialStock) {
  const q = async (text) => (await db.query(text)).rows;
  const orders = await q('SELECT id, status, items FROM orders');
  const products = await q('SELECT product_id, available, reserved, sold FROM products');
  const payments = await q('SELECT payment_id, order_id, status FROM payments');
  const charges = await q('SELECT idempotency_key, status FROM gateway_charges');
  const notifications = await q('SELECT order_id, kind, status FROM notifications');
  const reservations = await q('SELECT order_id, status FROM reservations');
  const events = await q(
    'SELECT seq, event_id, type, stream_id, payload, causation_id FROM event_log ORDER BY seq',
  );
  const deliveries = await q(
    "SELECT status, count(*)::int AS n FROM deliveries WHERE status <> 'DONE' GROUP BY status",
  );
  const deadLetters = await q(
    'SELECT subscriber, event_type, stream_id, attempts, last_error FROM dead_letters ORDER BY failed_at',
  );
  const keys = await q('SELECT key, state FROM idempotency_keys');
  // Once everything settled and the queues are empty, no delivery should still be waiting.
  const stale = await q(`
    SELECT d.subscriber, d.status, d.attempts, d.updated_at, d.last_error, e.type, e.seq,
           e.event_id, e.stream_id
    FROM deliveries d JOIN event_log e ON e.event_id = d.event_id
    WHERE d.status = 'RETRY' ORDER BY e.seq`);

  const orderById = new Map(orders.map((o) => [o.id, o]));
  const byStatus = { COMPLETED: 0, FAILED: 0, CANCELLED: 0 };

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
    if (stored !== sent)
      violate('lost', `order ${id} has items ${stored}, the client sent ${sent}`);
  }
  for (const order of orders) {
    if (TERMINAL.includes(order.status)) byStatus[order.status]++;
    else {
      lost++;
      violate('lost', `order ${order.id} is still ${order.status}`);
    }
  }
  // Idempotency: every order stored was answered to the one key that placed it.
  const extra = orders.filter((o) => !accepted.has(o.id));
  if (extra.length > stats.abandoned) {
    violate(
      'idempotency',
      `${extra.length} orders in the database were never answered 202 (only ${stats.abandoned} ` +
        `requests were abandoned): ${extra
          .slice(0, 5)
          .map((o) => o.id)
          .join(', ')}`,
    );
  }
  const openKeys = keys.filter((k) => k.state !== 'DONE');
  if (openKeys.length > stats.abandoned) {
    violate(
      'idempotency',
      `${openKeys.length} idempotency keys are not DONE: ${openKeys
        .slice(0, 5)
        .map((k) => `${k.key} ${k.state}`)
        .join(', ')}`,
    );
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

  // Stock: nothing created or lost, nothing oversold, nothing left reserved.
  const soldByProduct = new Map();
  for (const order of orders) {
    if (order.status !== 'COMPLETED') continue;
    for (const line of JSON.parse(order.items)) {
      soldByProduct.set(line.productId, (soldByProduct.get(line.productId) ?? 0) + line.quantity);
    }
  }
  const productById = new Map(products.map((p) => [p.product_id, p]));
  for (const [id, initial] of initialStock) {
    const product = productById.get(id);
    if (!product) {
      violate('stock', `product ${id} is gone`);
      continue;
    }
    const { available, reserved, sold } = product;
    if (available < 0 || reserved < 0 || sold < 0) {
      violate(
        'stock',
        `${id}: negative stock (available ${available}, reserved ${reserved}, sold ${sold})`,
      );
    }
    if (available + reserved + sold !== initial) {
      violate(
        'stock',
        `${id}: available ${available} + reserved ${reserved} + sold ${sold} != initial ${initial}`,
      );
    }
    if (reserved !== 0) violate('stock', `${id}: ${reserved} units still reserved`);
    const completedUnits = soldByProduct.get(id) ?? 0;
    if (sold !== completedUnits) {
      violate('stock', `${id}: sold ${sold}, but COMPLETED orders hold ${completedUnits}`);
    }
    if (completedUnits > initial) {
      violate('stock', `${id}: oversold, ${completedUnits} units completed of ${initial}`);
    }
  }
  for (const product of products) {
    if (!initialStock.has(product.product_id)) {
      violate('stock', `unexpected product ${product.product_id}`);
    }
  }
  for (const reservation of reservations) {
    const status = orderById.get(reservation.order_id)?.status;
    for (const problem of reservationProblems(reservation, status)) violate('stock', problem);
  }

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
    if (!orderById.has(orderId))
      violate('notifications', `notification for unknown order ${orderId}`);
  }

  // Events of each order: one OrderCreated first, no duplicates, causes before effects.
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

  // Dead letters: none are expected with these settings.
  for (const d of deadLetters) {
    violate(
      'dead',
      `${d.subscriber} on ${d.event_type} of ${d.stream_id} after ${d.attempts} attempts: ` +
        d.last_error,
    );
  }

  const scarce = [...initialStock.keys()]
    .filter((id) => id.startsWith('scarce-'))
    .map((id) => `${id} ${soldByProduct.get(id) ?? 0}/${initialStock.get(id)}`)
    .join(', ');
  return {
    ordersInDb: orders.length,
    byStatus,
    lost,
    doubleCharges,
    charges: charges.filter((c) => c.status === 'SUCCEEDED' || c.status === 'REFUNDED').length,
    refunds: charges.filter((c) => c.status === 'REFUNDED').length,
    declined: charges.filter((c) => c.status === 'DECLINED').length,
    notificationViolations,
    eventViolations,
    events: events.length,
    deliveries: Object.fromEntries(deliveries.map((d) => [d.status, d.n])),
    deadLetters: deadLetters.length,
    stale,
    scarce,
  };
}

// ---------------------------------------------------------------------------------------------
// Clean-up

async function deleteBrokerObjects(subscribers) {
  const names = new Set();
  const exchanges = new Set([`${PREFIX}.events`, `${PREFIX}.requeue`]);
  names.add(`${PREFIX}.dead-letters`);
  for (const ms of DELAY_BUCKETS_MS) {
    names.add(`${PREFIX}.delay.${ms}`);
    exchanges.add(`${PREFIX}.delay.${ms}`);
  }
  for (const subscriber of subscribers) names.add(`${PREFIX}.sub.${subscriber}`);
  let found = 0;
  try {
    for (const q of await queues()) {
      names.add(q.name);
      found++;
    }
    const out = await rabbitmqctl('list_exchanges', '-q', '--no-table-headers', 'name');
    for (const name of out.split('\n').map((l) => l.trim())) {
      if (!name.startsWith(`${PREFIX}.`)) continue;
      exchanges.add(name);
      found++;
    }
  } catch (error) {
    console.log(`  (could not list the broker's objects: ${error.message.split('\n')[0]})`);
  }
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => undefined);
  try {
    // A failed operation closes its channel: one channel per operation.
    const attempt = async (operation) => {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await operation(channel);
      } catch {
        // not there
      } finally {
        await channel.close().catch(() => undefined);
      }
    };
    for (const name of names) await attempt((c) => c.deleteQueue(name));
    for (const name of exchanges) await attempt((c) => c.deleteExchange(name));
  } finally {
    await connection.close().catch(() => undefined);
  }
  return found;
}

async function cleanUp(subscribers = []) {
  if (cleanedUp) return;
  cleanedUp = true;
  killChildren();
  // Nothing to clean when the run stopped before it created anything.
  if (!databaseCreated) return;
  if (KEEP) {
    console.log(
      `KEEP_DB=1: kept database ${DB_NAME}, broker prefix ${PREFIX}.*, folder ${workDir}`,
    );
    return;
  }
  try {
    if (subscribers.length === 0) {
      subscribers = await withClient(SERVICE_DB_URL, async (c) =>
        (await c.query('SELECT DISTINCT subscriber FROM deliveries')).rows.map((r) => r.subscriber),
      ).catch(() => []);
    }
    const deleted = await deleteBrokerObjects(subscribers);
    console.log(`cleanup: deleted the ${deleted} queues and exchanges of ${PREFIX}.*`);
  } catch (error) {
    console.log(`cleanup: could not delete the broker objects of ${PREFIX}.*: ${error.message}`);
  }
  try {
    await dropDatabase();
    console.log(`cleanup: dropped database ${DB_NAME}`);
  } catch (error) {
    console.log(`cleanup: could not drop database ${DB_NAME}: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const startedAt = Date.now();
const elapsed = () => `[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s]`;

/**
 * The instances run from a copy of dist/, so a rebuild by someone else during the run cannot
 * pull the build from under them. A rebuild under way (dist/ missing or changing) is waited for.
 */
async function snapshotBuild() {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if (!existsSync(join(BUILD, 'main.js'))) throw new Error('no main.js');
      rmSync(APP_DIR, { recursive: true, force: true });
      mkdirSync(APP_DIR);
      cpSync(BUILD, join(APP_DIR, 'dist'), { recursive: true });
      if (!existsSync(MAIN)) throw new Error('main.js went away');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `${join(BUILD, 'main.js')} not usable (${error.message}): run \`nest build\``,
        );
      }
      await delay(1000);
    }
  }
  writeFileSync(join(APP_DIR, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(APP_DIR, 'node_modules'), 'dir');
}

function logLines(instance, level) {
  if (!existsSync(instance.logPath)) return [];
  return readFileSync(instance.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.includes(` ${level} `));
}

async function stopAll() {
  for (const instance of instances) signal(instance, 'SIGTERM');
  await Promise.all(
    instances.map(async (instance) => {
      const exit = await Promise.race([
        instance.exited,
        delay(SHUTDOWN_WAIT_MS, undefined, { ref: false }),
      ]);
      if (!exit) {
        signal(instance, 'SIGKILL');
        await instance.exited;
        violate('run', `${instance.name} did not exit within ${SHUTDOWN_WAIT_MS} ms of SIGTERM`);
      } else if (exit.code !== 0) {
        violate(
          'run',
          `${instance.name}: SIGTERM, exit code ${exit.code}, signal ${exit.signal} (expected 0):\n` +
            logTail(instance),
        );
      }
    }),
  );
  return instances.map((i) => `${i.name} ${i.exit?.code ?? i.exit?.signal}`).join(', ');
}

async function main() {
  if (!Number.isInteger(ORDERS) || ORDERS < 1) {
    throw new Error('CLUSTER_ORDERS must be a positive integer');
  }
  await snapshotBuild();
  await createDatabase();
  console.log(
    `cluster test: ${INSTANCES} instances, ${ORDERS} orders (+ ${BURSTS.reduce((n, b) => n + b.orders, 0)} ` +
      `in bursts), ${CLIENTS} clients, seed ${SEED_TEXT}\n  database ${DB_NAME}, broker prefix ` +
      `${PREFIX}\n  service logs in ${workDir}`,
  );

  const ports = [];
  for (let i = 0; i < INSTANCES; i++) {
    const port = await freePort(ports);
    ports.push(port);
    instances.push({
      name: `instance-${i + 1}`,
      port,
      logPath: join(workDir, `instance-${i + 1}.log`),
      requests: 0,
    });
  }
  // The first one alone runs the migrations; then the others.
  await waitReady(startInstance(instances[0]));
  await Promise.all(instances.slice(1).map((i) => waitReady(startInstance(i))));
  console.log(
    `${elapsed()} ${INSTANCES} instances up on ports ${ports.join(', ')} (logs ${workDir}/instance-*.log)`,
  );

  // Stock before the load.
  for (const [id, product] of Object.entries(STOCK)) {
    const { response } = await request('PUT', `/inventory/${id}`, product);
    if (response?.status !== 200) {
      throw new Error(`PUT /inventory/${id}: ${response?.status} ${response?.text}`);
    }
  }
  const { response: inventory } = await request('GET', '/inventory');
  if (inventory?.status !== 200) throw new Error(`GET /inventory: ${inventory?.status}`);
  const initialStock = new Map(
    inventory.json.map((p) => [p.productId, p.available + p.reserved + p.sold]),
  );
  console.log(`  stock: ${[...initialStock].map(([id, n]) => `${id} ${n}`).join(', ')}`);

  // Load.
  const loadStart = Date.now();
  const conducting = conductor();
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => clientLoop(c)));
  load.stop = true;
  await conducting;
  while (background.length > 0) await Promise.all(background.splice(0));
  const loadEnd = Date.now();
  console.log(
    `${elapsed()} load done: ${stats.sent} orders sent, ${accepted.size} accepted in ` +
      `${((loadEnd - loadStart) / 1000).toFixed(1)} s`,
  );

  // Settling, shutdown and the invariants.
  const subscribers = [];
  const db = new pg.Client({ connectionString: SERVICE_DB_URL });
  await db.connect();
  let figures;
  let settle;
  let settledAt;
  let exits;
  try {
    settle = await waitSettled(db);
    settledAt = Date.now();
    if (settle.ok) console.log(`${elapsed()} settled: ${settle.state}`);
    else {
      violate('run', `not settled after ${SETTLE_TIMEOUT_MS} ms: ${settle.state}`);
      console.log(`${elapsed()} NOT settled after ${SETTLE_TIMEOUT_MS} ms: ${settle.state}`);
      await diagnoseStall(db).catch((error) => console.log(`  (no diagnosis: ${error.message})`));
    }
    exits = await stopAll();
    console.log(`${elapsed()} SIGTERM: ${exits}`);
    figures = await checkInvariants(db, initialStock);
    const rows = (await db.query('SELECT DISTINCT subscriber FROM deliveries')).rows;
    subscribers.push(...rows.map((r) => r.subscriber));
  } finally {
    await db.end().catch(() => undefined);
  }

  const deadQueue = (await queues().catch(() => [])).find(
    (q) => q.name === `${PREFIX}.dead-letters`,
  );
  const loadSeconds = (loadEnd - loadStart) / 1000;
  const settleSeconds = (settledAt - loadEnd) / 1000;
  const totalSeconds = (settledAt - loadStart) / 1000;
  const terminal =
    figures.byStatus.COMPLETED + figures.byStatus.FAILED + figures.byStatus.CANCELLED;
  const reconnects = instances.map(
    (i) => logLines(i, 'WARN').filter((l) => l.includes('RabbitMQ connection closed')).length,
  );
  const count = (category) => violations.filter((v) => v.category === category).length;
  const lines = [
    ['instances', `${INSTANCES} (requests ${instances.map((i) => i.requests).join(' / ')})`],
    [
      'orders sent / accepted / in the database',
      `${stats.sent} / ${accepted.size} / ${figures.ordersInDb}`,
    ],
    ['  of which in scarce bursts', `${stats.burstSent} (completed units: ${figures.scarce})`],
    [
      'completed / failed / cancelled',
      `${figures.byStatus.COMPLETED} / ${figures.byStatus.FAILED} / ${figures.byStatus.CANCELLED}`,
    ],
    [
      'cancel requests (200 / 409 / unknown)',
      `${stats.cancelRequests} (${cancelled.size} / ${stats.cancel409} / ${stats.cancelUnknown})`,
    ],
    [
      'request retries (no answer, 5xx, key in flight)',
      `${stats.retries} (${stats.inFlight409} answers 409 key in flight for ${stats.keysInFlight} ` +
        `orders, ${stats.replayed} replayed 202s)`,
    ],
    [
      'POST /orders latency p50 / p95 / max',
      `${percentile(postLatencies, 50)} / ${percentile(postLatencies, 95)} / ` +
        `${percentile(postLatencies, 100)} ms`,
    ],
    ['kills (SIGKILL) / restarts', `${stats.kills} / ${stats.restarts}`],
    [
      'database connection cuts',
      `${stats.databaseCuts} (${stats.connectionsClosed} connections closed; ${stats.http503} ` +
        `answers 503 retried)`,
    ],
    ['instances that exited on their own', stats.unexpectedExits],
    [
      'broker connection restarts',
      `${stats.brokerRestarts} (reconnects logged per instance: ${reconnects.join(' / ')})`,
    ],
    ['load duration', `${loadSeconds.toFixed(1)} s`],
    ['settling after the load', `${settleSeconds.toFixed(1)} s`],
    ['accepted orders per second (load)', (accepted.size / loadSeconds).toFixed(1)],
    [
      'workflows settled per second (first POST to settled)',
      `${(terminal / totalSeconds).toFixed(1)} (${(figures.byStatus.COMPLETED / totalSeconds).toFixed(1)} completed/s)`,
    ],
    [
      'charges / refunds / declined',
      `${figures.charges} / ${figures.refunds} / ${figures.declined}`,
    ],
    ['events in the log', figures.events],
    [
      'deliveries retrying / dead',
      `${figures.deliveries.RETRY ?? 0} / ${figures.deliveries.DEAD ?? 0}`,
    ],
    ['deliveries left RETRY with nothing queued', figures.stale.length],
    [
      'dead letters (table / queue)',
      `${figures.deadLetters} / ${deadQueue ? deadQueue.messages : '?'}`,
    ],
    ['shutdown (SIGTERM)', exits],
    [
      'WARN / ERROR lines in the service logs',
      `${instances.reduce((n, i) => n + logLines(i, 'WARN').length, 0)} / ` +
        instances.reduce((n, i) => n + logLines(i, 'ERROR').length, 0),
    ],
    ...CATEGORIES.map(([category, label]) => [label, count(category)]),
  ];
  console.log('\nsummary');
  for (const [name, value] of lines) console.log(`  ${name.padEnd(52)}${value}`);

  if (violations.length > 0) {
    console.log(`\n${violations.length} violations (first 20 of each kind):`);
    for (const [category] of CATEGORIES) {
      for (const v of violations.filter((x) => x.category === category).slice(0, 20)) {
        console.log(`  [${v.category}] ${v.message}`);
      }
    }
    const errors = instances.flatMap((i) => logLines(i, 'ERROR').map((l) => `${i.name}: ${l}`));
    if (errors.length > 0) {
      console.log(`\nfirst ERROR lines of the service logs:`);
      for (const line of errors.slice(0, 10)) console.log(`  ${line.slice(0, 400)}`);
    }
  }
  if (figures.stale.length > 0) {
    // Not one of the invariants (every order settled all the same), but the inbox says this work
    // is not done while no message is left to do it: reported, not failed.
    console.log(
      `\nwarning: ${figures.stale.length} deliveries are recorded as RETRY though the queues are ` +
        'empty and their orders settled (first 20):',
    );
    for (const d of figures.stale.slice(0, 20)) {
      console.log(
        `  ${d.subscriber} on ${d.type} #${d.seq} (event ${d.event_id}, order ${d.stream_id}): ` +
          `attempts ${d.attempts}, at ${d.updated_at}, last error ${d.last_error}`,
      );
    }
  }
  const failed = violations.length > 0;
  await cleanUp(subscribers);
  if (failed) {
    console.log(`\nFAIL (service logs in ${workDir})`);
    process.exitCode = 1;
  } else {
    console.log('\nPASS: every invariant holds');
    if (!KEEP) rmSync(workDir, { recursive: true, force: true });
  }
}

process.on('exit', killChildren);
for (const name of ['SIGINT', 'SIGTERM']) {
  process.once(name, () => {
    killChildren();
    console.log(`\n${name}: stopped (service logs in ${workDir})`);
    void cleanUp().finally(() => process.exit(1));
  });
}
const crashed = (error) => {
  killChildren();
  console.log(`\ncluster test error: ${error instanceof Error ? error.stack : String(error)}`);
  console.log(`FAIL (service logs in ${workDir})`);
  void cleanUp().finally(() => process.exit(1));
};
process.on('uncaughtException', crashed);
process.on('unhandledRejection', crashed);

await main().catch(crashed);
