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
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase, withClient } from './lib/database.mjs';
import { poll, send } from './lib/http.mjs';
import {
  chargeViolations,
  readTables,
  recordViolations,
  TERMINAL_STATUSES,
} from './lib/invariants.mjs';
import { CHECKOUT_BUILD, freePort, serviceEnv, ServiceProcess } from './lib/processes.mjs';
import { printSummary, stopwatch } from './lib/report.mjs';

const ADMIN_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const database = testDatabase(ADMIN_URL, `orders_standby_${randomBytes(4).toString('hex')}`);
const ORDERS_BEFORE = 40;
const ORDERS_AT_KILL = 20;
const ORDERS_AFTER = 20;
const DISPATCH_POLL_MS = 200;
const TAKEOVER_DEADLINE_MS = 30_000;
const SETTLE_DEADLINE_MS = 60_000;
const workDir = mkdtempSync(join(tmpdir(), 'standby-test-'));
const elapsed = stopwatch();

const problems = [];
const instances = [];

async function startInstance(name) {
  const port = await freePort();
  const env = serviceEnv({
    PORT: String(port),
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    PAYMENT_LATENCY_MS: '50',
    PAYMENT_FAILURE_RATE: '0.1',
    NOTIFICATION_LATENCY_MS: '5',
    RANDOM_SEED: `standby-${database.name}`,
    RETRY_BASE_DELAY_MS: '20',
    DISPATCH_POLL_MS: String(DISPATCH_POLL_MS),
  });
  const instance = new ServiceProcess({ name, port, logPath: join(workDir, `${name}.log`) });
  const onExit = (exit) => {
    if (!exit.error && !instance.sentSignal) {
      problems.push(`${name} exited on its own ${instance.exitReport()}`);
    }
  };
  instances.push(instance.start({ ...CHECKOUT_BUILD, env, onExit }));
  const healthy = await instance.waitReady({
    timeoutMs: 30_000,
    intervalMs: 100,
    path: '/health',
    ready: (response) => response?.json?.status === 'ok',
    requestTimeoutMs: 10_000,
  });
  if (!healthy) throw new Error(`${name} exited while starting ${instance.exitReport()}`);
  return instance;
}

async function health(instance) {
  return (await send(instance.base, 'GET', '/health'))?.json ?? null;
}

/** Places an order, asking again (same Idempotency-Key) until it is accepted; its id. */
async function placeOrder(instance, n) {
  const key = `standby-${n}`;
  const body = {
    customerId: `customer-${n % 7}`,
    customerEmail: `customer-${n % 7}@example.com`,
    items: [{ productId: `product-${(n % 3) + 1}`, quantity: 1 }],
  };
  // An answer other than 202, 409 (the key in flight) or 503 (no database) is final.
  const final = (response) => response && ![202, 409, 503].includes(response.status);
  const { result: response } = await poll(
    () => send(instance.base, 'POST', '/orders', body, { headers: { 'idempotency-key': key } }),
    { timeoutMs: 20_000, intervalMs: 200, done: (r) => r?.status === 202 || final(r) },
  );
  if (response?.status === 202) return response.json.id;
  if (final(response)) problems.push(`POST /orders (${key}) answered ${response.status}`);
  else problems.push(`POST /orders (${key}) was never accepted`);
  return null;
}

async function waitSettled(ids) {
  const { done, result: open } = await poll(
    () =>
      withClient(database.url, async (c) => {
        const { rows } = await c.query(
          `SELECT count(*) AS n FROM orders o
            WHERE o.id = ANY($1) AND (o.status <> ALL($2::text[])
               OR NOT EXISTS (SELECT 1 FROM notifications x
                               WHERE x.order_id = o.id AND x.status = 'SENT'))`,
          [ids, TERMINAL_STATUSES],
        );
        return rows[0].n;
      }),
    { timeoutMs: SETTLE_DEADLINE_MS, intervalMs: 200, done: (n) => n === 0 },
  );
  if (!done) problems.push(`${open} orders did not settle within ${SETTLE_DEADLINE_MS} ms`);
}

/** Waits until a payment of these orders is under way; how many orders are in each status. */
async function waitForPayments(ids) {
  const { result: counts } = await poll(
    () =>
      withClient(database.url, async (c) => {
        const { rows } = await c.query(
          'SELECT status, count(*) AS n FROM orders WHERE id = ANY($1) GROUP BY status',
          [ids],
        );
        return Object.fromEntries(rows.map((r) => [r.status, r.n]));
      }),
    { timeoutMs: 10_000, intervalMs: 10, done: (c) => c.PAYMENT_PROCESSING > 0 },
  );
  return counts;
}

async function checkDatabase(accepted) {
  const tables = await withClient(database.url, (c) =>
    readTables(async (sql) => (await c.query(sql)).rows),
  );
  const { orders, payments, charges, events, deadLetters } = tables;
  const orderIds = new Set(orders.map((o) => o.id));
  for (const id of accepted) {
    if (!orderIds.has(id)) problems.push(`order ${id} was accepted but is not stored`);
  }
  for (const { message } of chargeViolations(orders, payments, charges)) problems.push(message);
  for (const { message } of recordViolations(tables).violations) problems.push(message);
  if (deadLetters.length !== 0) problems.push(`${deadLetters.length} dead letters`);
  const byStatus = {};
  for (const { status } of orders) byStatus[status] = (byStatus[status] ?? 0) + 1;
  return { orders: orders.length, byStatus, events: events.length };
}

async function main() {
  await database.create();
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
    first.signal('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    console.log(`${elapsed()} SIGKILL instance-1 with its new orders at ${JSON.stringify(atKill)}`);

    const { done: tookOver, result: role } = await poll(
      async () => (await health(second))?.events,
      {
        timeoutMs: TAKEOVER_DEADLINE_MS,
        intervalMs: 50,
        done: (events) => events === 'delivering',
      },
    );
    const takeoverMs = Date.now() - killedAt;
    if (!tookOver) problems.push(`instance-2 did not take over (it is ${role})`);
    else console.log(`${elapsed()} instance-2 delivers, ${takeoverMs} ms after the kill`);

    await place(second, 3000, ORDERS_AFTER);
    await waitSettled(accepted);
    console.log(`${elapsed()} ${accepted.length} orders settled`);

    // No time limit: the service bounds its own shutdown (SHUTDOWN_TIMEOUT_MS).
    const stopProblem = await second.stop();
    if (stopProblem) problems.push(stopProblem);

    const figures = await checkDatabase(accepted);
    printSummary(
      [
        ['orders accepted / stored', `${accepted.length} / ${figures.orders}`],
        ['by status', JSON.stringify(figures.byStatus)],
        ['events in the log', figures.events],
        ['takeover after SIGKILL', `${takeoverMs} ms`],
        ['problems', problems.length],
      ],
      34,
    );
  } finally {
    for (const instance of instances) instance.killIfRunning();
    await Promise.all(instances.map((i) => i.exited));
    await database.drop();
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
