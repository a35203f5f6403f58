// oxlint-disable no-console -- this script reports through its progress lines and summary.
/**
 * Standby test: two instances of the built service (dist/main.js) on one PostgreSQL database and
 * no broker. One holds the delivery lease and delivers; the other takes requests and stands by.
 * Orders go to both; then the delivering instance is killed with SIGKILL while payments of new
 * orders are under way, and the other must take over (the session-level lock is freed when
 * PostgreSQL ends the dead session) and finish every order: nothing lost, nothing charged twice,
 * one notification per order, a consistent event history.
 *
 *   npm run test:standby                    (checks the server and builds first)
 *
 * Environment: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the test
 * creates its own database next to it and drops it at the end). Exits 0 only when every check
 * holds.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  chargeViolations,
  eventHistoryProblems,
  groupBy,
  notificationProblems,
  SERVICE_VARS,
} from './lib/invariants.mjs';
import { freePort, withClient } from './lib/processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const DB_NAME = `orders_standby_${randomBytes(4).toString('hex')}`;
const SERVICE_DB_URL = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();
const ORDERS_BEFORE = 40;
const ORDERS_AT_KILL = 20;
const ORDERS_AFTER = 20;
const DISPATCH_POLL_MS = 200;
const TAKEOVER_DEADLINE_MS = 30_000;
const SETTLE_DEADLINE_MS = 60_000;
const workDir = mkdtempSync(join(tmpdir(), 'standby-test-'));
const started = Date.now();
const elapsed = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s]`;

pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

const problems = [];
const instances = [];

async function startInstance(name) {
  const port = await freePort();
  const env = { ...process.env, NO_COLOR: '1' };
  for (const variable of SERVICE_VARS) env[variable] = '';
  Object.assign(env, {
    PORT: String(port),
    DATABASE_URL: SERVICE_DB_URL,
    LOG_LEVEL: 'warn',
    PAYMENT_LATENCY_MS: '50',
    PAYMENT_FAILURE_RATE: '0.1',
    NOTIFICATION_LATENCY_MS: '5',
    RANDOM_SEED: `standby-${DB_NAME}`,
    RETRY_BASE_DELAY_MS: '20',
    DISPATCH_POLL_MS: String(DISPATCH_POLL_MS),
  });
  const logPath = join(workDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const instance = { name, port, child, logPath, killed: false };
  instance.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      instance.exit = { code, signal };
      if (!instance.killed && !instance.stopping) {
        problems.push(`${name} exited on its own (code ${code}):\n${logTail(instance)}`);
      }
      resolve(instance.exit);
    }),
  );
  instances.push(instance);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await health(instance))?.status === 'ok') return instance;
    if (instance.exit) break;
    await delay(100);
  }
  throw new Error(`${name} did not become healthy:\n${logTail(instance)}`);
}

function logTail(instance) {
  return readFileSync(instance.logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
}

async function call(instance, method, path, body, headers = {}) {
  try {
    const init = { method, headers, signal: AbortSignal.timeout(10_000) };
    if (body) {
      init.headers = { 'content-type': 'application/json', ...headers };
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`http://127.0.0.1:${instance.port}${path}`, init);
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  } catch {
    return null; // no answer: the instance is gone or busy
  }
}

async function health(instance) {
  return (await call(instance, 'GET', '/health'))?.json ?? null;
}

/** Places an order, asking again (same Idempotency-Key) until it is accepted; its id. */
async function placeOrder(instance, n) {
  const key = `standby-${n}`;
  const body = {
    customerId: `customer-${n % 7}`,
    customerEmail: `customer-${n % 7}@example.com`,
    items: [{ productId: `product-${(n % 3) + 1}`, quantity: 1 }],
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const response = await call(instance, 'POST', '/orders', body, { 'idempotency-key': key });
    if (response?.status === 202) return response.json.id;
    if (response && response.status !== 409 && response.status !== 503) {
      problems.push(`POST /orders (${key}) answered ${response.status}`);
      return null;
    }
    await delay(200);
  }
  problems.push(`POST /orders (${key}) was never accepted`);
  return null;
}

async function waitSettled(ids) {
  const deadline = Date.now() + SETTLE_DEADLINE_MS;
  for (;;) {
    const open = await withClient(SERVICE_DB_URL, async (c) => {
      const { rows } = await c.query(
        `SELECT count(*) AS n FROM orders o
          WHERE o.id = ANY($1) AND (o.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
             OR NOT EXISTS (SELECT 1 FROM notifications x
                             WHERE x.order_id = o.id AND x.status = 'SENT'))`,
        [ids],
      );
      return rows[0].n;
    });
    if (open === 0) return;
    if (Date.now() > deadline) {
      problems.push(`${open} orders did not settle within ${SETTLE_DEADLINE_MS} ms`);
      return;
    }
    await delay(200);
  }
}

/** Waits until a payment of these orders is under way; how many orders are in each status. */
async function waitForPayments(ids) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await withClient(SERVICE_DB_URL, async (c) => {
      const result = await c.query(
        'SELECT status, count(*) AS n FROM orders WHERE id = ANY($1) GROUP BY status',
        [ids],
      );
      return result.rows;
    });
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    if (counts.PAYMENT_PROCESSING > 0 || Date.now() > deadline) return counts;
    await delay(10);
  }
}

async function checkDatabase(accepted) {
  const rows = await withClient(SERVICE_DB_URL, async (c) => {
    const q = async (text) => (await c.query(text)).rows;
    return {
      orders: await q('SELECT id, status, items FROM orders'),
      payments: await q('SELECT payment_id, order_id, status FROM payments'),
      charges: await q('SELECT idempotency_key, status FROM gateway_charges'),
      notifications: await q('SELECT order_id, kind, status FROM notifications'),
      events: await q(
        'SELECT seq, event_id, type, stream_id, payload, causation_id FROM event_log ORDER BY seq',
      ),
      dead: await q('SELECT count(*) AS n FROM dead_letters'),
    };
  });
  const orderById = new Map(rows.orders.map((o) => [o.id, o]));
  for (const id of accepted) {
    if (!orderById.has(id)) problems.push(`order ${id} was accepted but is not stored`);
  }
  for (const { message } of chargeViolations(rows.orders, rows.payments, rows.charges)) {
    problems.push(message);
  }
  const notificationsByOrder = groupBy(rows.notifications, 'order_id');
  const eventsByStream = groupBy(rows.events, 'stream_id');
  const seqByEventId = new Map(rows.events.map((e) => [e.event_id, e.seq]));
  for (const order of rows.orders) {
    const events = eventsByStream.get(order.id) ?? [];
    const found = [
      ...notificationProblems(order, notificationsByOrder.get(order.id) ?? [], events),
      ...eventHistoryProblems(events, order, seqByEventId),
    ];
    if (found.length > 0) problems.push(`order ${order.id}: ${found.join('; ')}`);
  }
  if (rows.dead[0].n !== 0) problems.push(`${rows.dead[0].n} dead letters`);
  const byStatus = Object.fromEntries(
    [...groupBy(rows.orders, 'status')].map(([status, list]) => [status, list.length]),
  );
  return { orders: rows.orders.length, byStatus, events: rows.events.length };
}

async function main() {
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE "${DB_NAME}"`));
  try {
    const first = await startInstance('instance-1');
    const second = await startInstance('instance-2');
    const roles = [(await health(first))?.events, (await health(second))?.events];
    console.log(`${elapsed()} two instances up: ${roles.join(' / ')}`);
    if (roles[0] !== 'delivering' || roles[1] !== 'standing by') {
      problems.push(`expected delivering / standing by, got ${roles.join(' / ')}`);
    }

    const accepted = [];
    const place = async (instance, from, count) => {
      const ids = await Promise.all(
        Array.from({ length: count }, (_, i) => placeOrder(instance, from + i)),
      );
      accepted.push(...ids.filter(Boolean));
    };
    await Promise.all([place(first, 0, ORDERS_BEFORE / 2), place(second, 1000, ORDERS_BEFORE / 2)]);
    await waitSettled(accepted);
    console.log(`${elapsed()} ${accepted.length} orders placed on both and settled`);

    // New orders on the delivering instance; it dies once their payments are under way.
    const before = accepted.length;
    await place(first, 2000, ORDERS_AT_KILL);
    const inFlight = accepted.slice(before);
    const atKill = await waitForPayments(inFlight);
    first.killed = true;
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    console.log(`${elapsed()} SIGKILL instance-1 with its new orders at ${JSON.stringify(atKill)}`);

    let role;
    while (Date.now() - killedAt < TAKEOVER_DEADLINE_MS) {
      role = (await health(second))?.events;
      if (role === 'delivering') break;
      await delay(50);
    }
    const takeoverMs = Date.now() - killedAt;
    if (role !== 'delivering') problems.push(`instance-2 did not take over (it is ${role})`);
    else console.log(`${elapsed()} instance-2 delivers, ${takeoverMs} ms after the kill`);

    await place(second, 3000, ORDERS_AFTER);
    await waitSettled(accepted);
    console.log(`${elapsed()} ${accepted.length} orders settled`);

    second.stopping = true;
    second.child.kill('SIGTERM');
    const exit = await second.exited;
    if (exit.code !== 0) problems.push(`instance-2 exited ${exit.code} on SIGTERM`);

    const figures = await checkDatabase(accepted);
    console.log('\nsummary');
    console.log(`  orders accepted / stored          ${accepted.length} / ${figures.orders}`);
    console.log(`  by status                         ${JSON.stringify(figures.byStatus)}`);
    console.log(`  events in the log                 ${figures.events}`);
    console.log(`  takeover after SIGKILL            ${takeoverMs} ms`);
    console.log(`  problems                          ${problems.length}`);
  } finally {
    for (const instance of instances) if (!instance.exit) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((i) => i.exited));
    await withClient(ADMIN_URL, (c) =>
      c.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`),
    );
  }
  if (problems.length > 0) {
    console.log(`\nFAIL (service logs in ${workDir})`);
    for (const problem of problems.slice(0, 30)) console.log(`  ${problem}`);
    process.exit(1);
  }
  rmSync(workDir, { recursive: true, force: true });
  console.log('\nPASS: every check holds');
}

await main();
