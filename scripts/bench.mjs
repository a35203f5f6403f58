// oxlint-disable no-console -- this script reports through its result table.
/**
 * Benchmark: the order service against a naive in-memory version of the same workflow and the
 * framework's own ceiling, every figure measured in the same run on the same machine.
 *
 *   npm run bench                          (builds the service first)
 *   BENCH_ONLY=naive,sqlite BENCH_SECONDS=3 node scripts/bench.mjs
 *
 * Parts (BENCH_ONLY, comma-separated; default all, in this order):
 *   ceiling     a bare NestJS 12 application on Express: trivial GET, JSON echo POST.
 *   naive       bench/naive: the workflow written the plain @nestjs/cqrs way (AggregateRoot,
 *               EventBus, @Saga() pipelines), everything in memory. Compiled here with tsc.
 *   sqlite      the service (dist/main.js) on a fresh SQLite file.
 *   pg          the service on a fresh PostgreSQL database, in-process delivery.
 *   amqp        the service on a fresh PostgreSQL database with RabbitMQ (a fresh AMQP_PREFIX).
 *   pg-cluster  BENCH_INSTANCES (default 3) processes of the service on one fresh PostgreSQL
 *               database, in-process delivery: all of them take POST /orders, the one holding
 *               the delivery lease delivers the events.
 *   scale       reads with the bench's 20 orders stored, then with BENCH_SEED_ORDERS more.
 * pg, amqp and pg-cluster are skipped, with one line in the table, when their server does not
 * answer.
 *
 * Each of naive, sqlite, pg and amqp, one process each, in this order:
 *   1. PUT /inventory/bench-product, one order placed and finished (warms the process up).
 *   2. GET /orders/{id}: autocannon, BENCH_CONNECTIONS connections, BENCH_SECONDS (after 2 s of
 *      the same load, not counted: every GET measurement has this warm-up).
 *   3. POST /orders: autocannon, BENCH_CONNECTIONS connections, BENCH_SECONDS, the workflow of
 *      every accepted order running beside it (req/s, p50/p99: the "50 connections" row). Then
 *      the wait until every order created has its final notification (OrderConfirmationSent or
 *      OrderFailureNotificationSent in event_log; GET /stats for the naive reference), at most
 *      BENCH_DRAIN_SECONDS: the end-to-end rate is orders / (first POST to last notification).
 *      The end-to-end figure and the POST figure come from this one phase: a second POST phase
 *      would leave a second backlog to wait for. On PostgreSQL the workflow runs at tens of
 *      orders/s while POSTs come in by the hundred, so 10 s of POSTs take minutes to finish;
 *      the POST phase of the service on PostgreSQL therefore also stops at
 *      BENCH_E2E_MAX_ORDERS requests (default 2,000; about a minute of work there). On SQLite,
 *      like the naive reference, it is not capped.
 *   4. POST /orders at a steady BENCH_RATE requests/s (default 1,000) for BENCH_SECONDS, on an
 *      idle workflow: p50/p99 and the rate actually served. Open loop (scripts/lib/
 *      bench-load.mjs): requests are due every 1/rate s whether or not earlier ones were
 *      answered, over at most BENCH_CONNECTIONS connections, and latency counts from when a
 *      request was due. autocannon's overallRate sends each connection's share of a second back
 *      to back at the start of each second (bursts of BENCH_CONNECTIONS requests, not a steady
 *      rate) and corrects latency for an interval of 1 ms per connection; BENCH_STEADY=autocannon
 *      uses it anyway, for comparison.
 *   5. Peak RSS: VmHWM of the process, from /proc/<pid>/status.
 * For the service, also (scripts/lib/bench-service-metrics.mjs, from its /metrics): database
 * statements and commits per order and the service's CPU ms per order over step 3, and the order
 * latency (POST commit to final status, p50/p99) of the orders of step 4, drained to the end.
 * A part whose wait exceeds BENCH_DRAIN_SECONDS says so in its row and skips step 4.
 *
 * pg-cluster: the instances start one after the other (each runs the migrations at start, under
 * the migrator's lock: the first applies them). Step 1 places one order on each instance. Then
 * step 3 only, one load on all of them: its BENCH_CONNECTIONS go to the instances in turn (50
 * over 3: 17, 17, 16) and it stops at BENCH_E2E_MAX_ORDERS as in the pg part (autocannon gives
 * each connection its share: the connections to an instance that answers faster finish first);
 * req/s and p50/p99 are those of every request. Statements, commits and CPU per order are the
 * instances' added up (the /metrics of every instance, the CPU of every process). No steps 2, 4
 * and 5.
 *
 * scale: the service on a fresh SQLite file, 20 orders placed and finished; GET /orders/{id} and
 * the first page of GET /orders; then the service is stopped, BENCH_SEED_ORDERS rows (default
 * 1,000,000, COMPLETED, created before the bench's orders, so the first page is the same 20) are
 * inserted into `orders` in one transaction with better-sqlite3, the service is started again on
 * the file and the same two reads are measured. Ratios: with the rows / without.
 *
 * Ratios: naive to the ceiling; every service figure to the naive reference's same figure; reads
 * at scale to the same read without the seeded rows. Non-2xx answers (503 with Retry-After
 * under overload included), connection errors and abandoned requests are counted apart.
 *
 * The service runs with LOG_LEVEL=error, simulators at 0 ms and no failures of any kind, no
 * crash points (SERVICE_ENV in scripts/lib/bench-apps.mjs). Its other variables (DISPATCH_*,
 * RETRY_*, DATABASE_POOL_SIZE, AMQP_PREFETCH, SQLITE_SYNCHRONOUS, ORDER_STEP_TIMEOUT_MS, ...)
 * come from the environment, so `DISPATCH_CONCURRENCY=64 npm run bench` measures that setting.
 * Access control is on: every request carries an admin token of the run's own JWT_SECRET.
 *
 * Servers: BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/
 * test) names the PostgreSQL server where a database is created and dropped; BENCH_AMQP_URL
 * (else TEST_AMQP_URL, else amqp://guest:guest@127.0.0.1:5672) the broker, whose queues of the
 * run's prefix are deleted at the end.
 *
 * The machine may be shared: for every part, the bench records how much CPU other processes took
 * while it measured (scripts/lib/bench-cpu.mjs; PostgreSQL backends of other databases count as
 * other, RabbitMQ serves everyone and counts as the service's). A part measured beside other work
 * has low figures; the line under the table says so.
 *
 * Output: the machine and one markdown table on stdout (progress on stderr); the same figures,
 * and every raw figure behind them, in bench/results/<timestamp>.json.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  createPostgresDatabase,
  placeOrder,
  postgresCounter,
  putProduct,
  sqliteCounter,
  startCeiling,
  startNaive,
  startService,
  SERVICE_ENV,
  SERVICE_TUNING,
} from './lib/bench-apps.mjs';
import { deleteBrokerObjects } from './lib/broker.mjs';
import { clusterPart } from './lib/bench-cluster.mjs';
import { cpuWindow, RABBITMQ_COMMANDS } from './lib/bench-cpu.mjs';
import {
  costPerOrder,
  orderLatency,
  scrapeService,
  scrapeServices,
} from './lib/bench-service-metrics.mjs';
import { closedLoop, openLoop } from './lib/bench-load.mjs';
import { formatNumber, machine, renderTable, saveResults } from './lib/bench-report.mjs';
import { withClient } from './lib/database.mjs';
import { reachable } from './lib/processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;

function positive(name, fallback) {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

const SECONDS = positive('BENCH_SECONDS', 10);
const CONNECTIONS = Math.round(positive('BENCH_CONNECTIONS', 50));
const RATE = positive('BENCH_RATE', 1000);
const MAX_ORDERS = Math.round(positive('BENCH_E2E_MAX_ORDERS', 2000));
const DRAIN_SECONDS = positive('BENCH_DRAIN_SECONDS', 180);
const SEED_ORDERS = Math.round(positive('BENCH_SEED_ORDERS', 1_000_000));
const INSTANCES = Math.round(positive('BENCH_INSTANCES', 3));
const STEADY = env.BENCH_STEADY ?? 'open';
const PG_URL =
  env.BENCH_DATABASE_URL ?? env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const AMQP_URL = env.BENCH_AMQP_URL ?? env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const PARTS = ['ceiling', 'naive', 'sqlite', 'pg', 'amqp', 'pg-cluster', 'scale'];
const ONLY = (env.BENCH_ONLY ?? PARTS.join(','))
  .split(',')
  .map((part) => part.trim())
  .filter(Boolean);
for (const part of ONLY) {
  if (!PARTS.includes(part)) throw new Error(`BENCH_ONLY: unknown part ${part} (${PARTS.join()})`);
}
if (!['open', 'autocannon'].includes(STEADY)) throw new Error('BENCH_STEADY: open or autocannon');
if (ONLY.includes('pg-cluster') && (INSTANCES < 2 || INSTANCES > CONNECTIONS)) {
  throw new Error('BENCH_INSTANCES: from 2 to BENCH_CONNECTIONS');
}

const PRODUCT = 'bench-product';
const ORDER = JSON.stringify({ customerId: 'bench', items: [{ productId: PRODUCT, quantity: 1 }] });
const JSON_TYPE = { 'content-type': 'application/json' };
const LABELS = {
  sqlite: 'SQLite',
  pg: 'PostgreSQL',
  amqp: 'PostgreSQL + RabbitMQ',
  'pg-cluster': `PostgreSQL, ${INSTANCES} instances`,
};

const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/** Clean-ups of what is running or created now, run in reverse order (also on Ctrl-C). */
const cleanups = [];
async function cleanUp(work) {
  const index = cleanups.indexOf(work);
  if (index >= 0) cleanups.splice(index, 1);
  await work().catch((error) => log(`clean-up failed: ${error.message}`));
}
async function withCleanup(work, body) {
  cleanups.push(work);
  try {
    return await body();
  } finally {
    await cleanUp(work);
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void (async () => {
      for (const work of cleanups.splice(0).reverse()) {
        await work().catch(() => undefined);
      }
      process.exit(130);
    })();
  });
}

// ---------------------------------------------------------------------------------------------
// Measurements

const WARM_UP_SECONDS = Math.min(2, SECONDS);

/** GET `path` for BENCH_SECONDS, after WARM_UP_SECONDS of the same load that is not counted. */
async function get(app, path) {
  const load = { url: app.base + path, connections: CONNECTIONS, headers: app.headers };
  await closedLoop({ ...load, seconds: WARM_UP_SECONDS });
  return closedLoop({ ...load, seconds: SECONDS });
}

/** A load of POSTs of `body` to `path`, as both POST measurements send them. */
const postLoad = (app, path, body) => ({
  url: app.base + path,
  connections: CONNECTIONS,
  seconds: SECONDS,
  method: 'POST',
  headers: { ...JSON_TYPE, ...app.headers },
  body,
});

const post = (app, path, body, maxRequests) =>
  closedLoop({ ...postLoad(app, path, body), maxRequests });

/** POST /orders, one load whose connections go to `apps` in turn (instances on one database). */
const postOrders = (apps, cap) =>
  closedLoop({
    ...postLoad(apps[0], '/orders', ORDER),
    url: apps.map((app) => `${app.base}/orders`),
    maxRequests: cap,
  });

function steady(app, path, body) {
  const options = postLoad(app, path, body);
  if (STEADY === 'autocannon') {
    return closedLoop({ ...options, overallRate: RATE }).then((f) => ({ ...f, offered: RATE }));
  }
  return openLoop({ ...options, rate: RATE });
}

/**
 * Waits until every order created since `before` has its final notification, at most
 * `seconds` after `since`, and at least 2 s after it (a POST cut off by the end of the load may
 * still commit its order). Fails if one of `apps` has exited.
 */
async function waitFinished(apps, counter, before, since, seconds) {
  for (;;) {
    for (const app of apps) app.process.check();
    const now = await counter.read();
    const created = now.created - before.created;
    const notified = now.notified - before.notified;
    const state = {
      created,
      notified,
      failed: now.failed - before.failed,
      lastNotifiedAt: now.lastNotifiedAt,
      waited: (Date.now() - since) / 1000,
    };
    if (notified >= created && Date.now() - since >= 2000) return { done: true, ...state };
    if (Date.now() - since > seconds * 1000) return { done: false, ...state };
    await delay(250);
  }
}

/** Step 1 of the header: the product, then one order placed on each app and finished; its id. */
async function warmUp(apps, counter) {
  await putProduct(apps[0], PRODUCT);
  const before = await counter.read();
  const ids = [];
  for (const app of apps) ids.push(await placeOrder(app, ORDER));
  const first = await waitFinished(apps, counter, before, Date.now(), 60);
  if (!first.done) {
    throw new Error(`the first order${apps.length > 1 ? 's' : ''} did not finish within 60 s`);
  }
  return ids[0];
}

/**
 * Step 3 of the header on every app at once, with its costs: the POST phase (`postOrders`),
 * then the wait for every notification.
 */
async function postAndDrain(apps, counter, cap, servers) {
  const over = apps.length > 1 ? ` over ${apps.length} instances` : '';
  log(`  POST /orders, ${CONNECTIONS} connections${over}, then the wait for every notification`);
  const start = await counter.read();
  const work = cpuWindow(() => apps.map((app) => app.process.pid), servers);
  const scraped = await scrapeServices(apps);
  const started = Date.now();
  const placed = await postOrders(apps, cap);
  const ended = Date.now();
  const drain = await waitFinished(apps, counter, start, ended, DRAIN_SECONDS);
  const cost = costPerOrder(scraped, await scrapeServices(apps), drain.created, await work.end());
  const seconds = drain.lastNotifiedAt === null ? null : (drain.lastNotifiedAt - started) / 1000;
  const e2e = {
    ...drain,
    postSeconds: (ended - started) / 1000,
    capped: cap !== undefined && placed.ok + placed.failed >= cap,
    seconds,
    rate: drain.done && seconds ? drain.created / seconds : null,
  };
  log(
    drain.done
      ? `  ${drain.created} orders in ${seconds.toFixed(1)} s`
      : `  not finished after ${DRAIN_SECONDS} s: ${drain.notified} of ${drain.created}`,
  );
  return { post: placed, e2e, cost };
}

/** Steps 1 to 5 of the header on a started application. */
async function measureWorkflow(app, counter, cap, servers) {
  const cpu = cpuWindow(() => [app.process.pid], servers);
  const id = await warmUp([app], counter);

  log('  GET /orders/{id}');
  const read = await get(app, `/orders/${id}`);

  const { post: placed, e2e, cost } = await postAndDrain([app], counter, cap, servers);

  let rated = null;
  let latency = null;
  if (e2e.done) {
    log(`  POST /orders at ${RATE} req/s`);
    const steadyStart = await counter.read();
    const steadyScrape = await scrapeService(app);
    rated = await steady(app, '/orders', ORDER);
    // Order latency: every order of the steady load, from its POST's commit to its final status.
    await waitFinished([app], counter, steadyStart, Date.now(), DRAIN_SECONDS);
    latency = orderLatency(steadyScrape, await scrapeService(app));
  }
  return {
    read,
    post: placed,
    e2e,
    cost,
    latency,
    steady: rated,
    peakRssMiB: app.process.peakRssMiB(),
    cpu: await cpu.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// Parts

async function ceilingPart() {
  const app = await startCeiling(ROOT);
  return withCleanup(
    () => app.process.stop(),
    async () => {
      const cpu = cpuWindow(() => [app.process.pid]);
      log('  GET /ping');
      const read = await get(app, '/ping');
      log('  POST /echo');
      const echo = await post(app, '/echo', ORDER);
      log(`  POST /echo at ${RATE} req/s`);
      const rated = await steady(app, '/echo', ORDER);
      const peakRssMiB = app.process.peakRssMiB();
      return { read, post: echo, steady: rated, peakRssMiB, cpu: await cpu.end() };
    },
  );
}

async function naivePart() {
  const app = await startNaive(ROOT);
  return withCleanup(
    () => app.process.stop(),
    () => measureWorkflow(app, app.counter, undefined),
  );
}

async function sqlitePart() {
  const dir = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  return withCleanup(
    () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    async () => {
      const file = join(dir, 'orders.db');
      const app = await startService(ROOT, `sqlite:${file}`);
      return withCleanup(
        () => app.process.stop(),
        async () => {
          const counter = sqliteCounter(file);
          return withCleanup(
            () => counter.close(),
            // Uncapped on SQLite: the whole BENCH_SECONDS of POSTs, as for the naive reference.
            () => measureWorkflow(app, counter, Infinity),
          );
        },
      );
    },
  );
}

function hostAndPort(url, defaultPort) {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}

/** Why `url`'s server cannot be used, or null when it answers. */
async function absent(name, url, defaultPort, variable) {
  const { host, port } = hostAndPort(url, defaultPort);
  if (await reachable(host, port)) return null;
  return `no ${name} at ${host}:${port} (${variable} names it)`;
}

/**
 * Runs `body` on a fresh PostgreSQL database (with a fresh AMQP_PREFIX on RabbitMQ `withBroker`),
 * dropped afterwards; `body` gets `start()`, which starts an instance of the service on it, a
 * counter of its orders and the servers for `cpuWindow`. Skipped when a server is absent.
 */
async function onPostgres(withBroker, body) {
  const missing =
    (await absent('PostgreSQL', PG_URL, 5432, 'BENCH_DATABASE_URL')) ??
    (withBroker ? await absent('RabbitMQ', AMQP_URL, 5672, 'BENCH_AMQP_URL') : null);
  if (missing) return { skipped: missing };
  const database = await createPostgresDatabase(PG_URL);
  log(`  database ${database.name}`);
  return withCleanup(database.drop, async () => {
    const prefix = `bench-${randomUUID().slice(0, 8)}`;
    // PostgreSQL's processes, but for the backends of other databases, serve the service; so
    // does RabbitMQ, when it is used.
    const servers = async () => {
      const foreign = await withClient(PG_URL, (c) =>
        c.query(
          `SELECT pid FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND datname IS DISTINCT FROM $1`,
          [database.name],
        ),
      ).then(
        (r) => r.rows.map((row) => row.pid),
        () => [],
      );
      const commands = ['postgres', ...(withBroker ? RABBITMQ_COMMANDS : [])];
      return { commands: new Set(commands), exclude: new Set(foreign) };
    };
    const brokerEnv = withBroker ? { AMQP_URL, AMQP_PREFIX: prefix } : {};
    const removeBrokerObjects = async () => {
      if (!withBroker) return;
      const subscribers = await withClient(database.url, async (c) =>
        (await c.query('SELECT DISTINCT subscriber FROM deliveries')).rows.map((r) => r.subscriber),
      ).catch(() => []);
      await deleteBrokerObjects(AMQP_URL, prefix, subscribers);
    };
    return withCleanup(removeBrokerObjects, async () => {
      const counter = await postgresCounter(database.url);
      return withCleanup(
        () => counter.close(),
        () => body({ start: () => startService(ROOT, database.url, brokerEnv), counter, servers }),
      );
    });
  });
}

function postgresPart(withBroker) {
  return onPostgres(withBroker, async ({ start, counter, servers }) => {
    const app = await start();
    return withCleanup(
      () => app.process.stop(),
      () => measureWorkflow(app, counter, MAX_ORDERS, servers),
    );
  });
}

/** Inserts `count` COMPLETED orders, all created before now, in one transaction. */
function seedOrders(file, count) {
  const db = new Database(file);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insert = db.prepare(
      `INSERT INTO orders (id, customer_id, customer_email, status, items, total_amount, currency,
         failure_reason, reserved_products, version, created_at, updated_at)
       VALUES (?, ?, NULL, 'COMPLETED', ?, 100, 'USD', NULL, ?, 6, ?, ?)`,
    );
    const items = JSON.stringify([{ productId: PRODUCT, quantity: 1, unitPrice: 100 }]);
    const reserved = JSON.stringify([PRODUCT]);
    // One order a second, the newest an hour before the bench's own orders.
    const oldest = Date.now() - (count + 3600) * 1000;
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const at = new Date(oldest + i * 1000).toISOString();
        insert.run(randomUUID(), `customer-${i % 10_000}`, items, reserved, at, at);
      }
    })();
    return db.prepare('SELECT count(*) AS n FROM orders').get().n;
  } finally {
    db.close();
  }
}

async function readsAt(app, id) {
  const cpu = cpuWindow(() => [app.process.pid]);
  const page = await fetch(`${app.base}/orders`, { headers: app.headers });
  if (!page.ok) throw new Error(`GET /orders answered ${page.status}`);
  const items = (await page.json()).items.length;
  log('  GET /orders/{id}');
  const one = await get(app, `/orders/${id}`);
  log(`  GET /orders (first page, ${items} orders)`);
  const list = await get(app, '/orders');
  const peakRssMiB = app.process.peakRssMiB();
  return { one, list, pageSize: items, peakRssMiB, cpu: await cpu.end() };
}

async function scalePart() {
  const dir = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  return withCleanup(
    () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    async () => {
      const file = join(dir, 'orders.db');
      const url = `sqlite:${file}`;
      let app = await startService(ROOT, url);
      let id;
      let small;
      let stored;
      await withCleanup(
        () => app.process.stop(),
        async () => {
          await putProduct(app, PRODUCT);
          const counter = sqliteCounter(file);
          await withCleanup(
            () => counter.close(),
            async () => {
              const before = await counter.read();
              id = await placeOrder(app, ORDER);
              for (let i = 1; i < 20; i++) await placeOrder(app, ORDER);
              const done = await waitFinished([app], counter, before, Date.now(), 60);
              if (!done.done) throw new Error('the 20 orders did not finish within 60 s');
              stored = (await counter.read()).created;
            },
          );
          small = await readsAt(app, id);
        },
      );
      log(`  inserting ${SEED_ORDERS} orders`);
      const seedStart = Date.now();
      const total = seedOrders(file, SEED_ORDERS);
      const seedSeconds = (Date.now() - seedStart) / 1000;
      log(`  ${total} orders stored (${seedSeconds.toFixed(1)} s)`);
      app = await startService(ROOT, url);
      const large = await withCleanup(
        () => app.process.stop(),
        () => readsAt(app, id),
      );
      return {
        small: { ...small, orders: stored },
        large: { ...large, orders: total },
        seedSeconds,
      };
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The table

function rowsOf(results) {
  const rows = [];
  const { ceiling, naive, scale } = results;
  const ok = (part) => part && !part.error && !part.skipped;
  const lineFor = (label, part) => {
    if (part?.skipped) rows.push({ measurement: label, note: `skipped: ${part.skipped}` });
    else if (part?.error) rows.push({ measurement: label, note: `failed: ${part.error}` });
  };
  const figure = (measurement, f, unit, reference, versus) => ({
    measurement,
    value: f.rate,
    unit,
    p50: f.p50,
    p99: f.p99,
    failed: f.failed,
    statuses: f.statuses,
    reference: reference && { value: reference.rate, p50: reference.p50, p99: reference.p99 },
    versus,
  });
  const rss = (measurement, value, reference, versus) => ({
    measurement,
    value,
    unit: 'MiB',
    reference: reference === undefined ? undefined : { value: reference },
    versus,
  });
  const rated = `at ${formatNumber(RATE)} req/s offered`;

  if (ok(ceiling)) {
    rows.push(
      figure('ceiling: GET /ping (trivial)', ceiling.read, 'req/s', ceiling.read, 'itself'),
    );
    rows.push(
      figure(
        `ceiling: POST /echo (JSON echo), ${CONNECTIONS} conn.`,
        ceiling.post,
        'req/s',
        ceiling.post,
        'itself',
      ),
    );
    rows.push(
      figure(
        `ceiling: POST /echo ${rated}`,
        ceiling.steady,
        'req/s served',
        ceiling.steady,
        'itself',
      ),
    );
    rows.push(rss('ceiling: peak RSS', ceiling.peakRssMiB, ceiling.peakRssMiB, 'itself'));
  } else lineFor('ceiling', ceiling);

  // Several instances (pg-cluster): the POST phase, its end to end and its costs only.
  const workflowRows = (label, part, reference, versus) => {
    const ref = ok(reference) ? reference : undefined;
    const to = ok(reference) ? versus : `${versus} (not measured)`;
    const over = part.instances ? ` over ${part.instances} instances` : '';
    rows.push(
      figure(
        `${label}: POST /orders, ${CONNECTIONS} conn.${over}, workflow running`,
        part.post,
        'req/s',
        ref?.post,
        to,
      ),
    );
    if (part.steady) {
      rows.push(
        figure(`${label}: POST /orders ${rated}`, part.steady, 'req/s served', ref?.steady, to),
      );
    } else if (!part.instances) {
      rows.push({
        measurement: `${label}: POST /orders ${rated}`,
        note: 'skipped: the workflow had not finished',
      });
    }
    const e = part.e2e;
    const about = [
      `${formatNumber(e.created)} orders`,
      e.failed ? `${formatNumber(e.failed)} failed` : null,
      e.capped ? `POST stopped at ${formatNumber(MAX_ORDERS)}` : null,
      e.done ? `${formatNumber(e.seconds)} s` : null,
    ]
      .filter(Boolean)
      .join(', ');
    // The naive reference's end-to-end rate is compared with the ceiling's POST rate.
    const e2eReference = versus === 'ceiling' ? ref?.post : ref?.e2e;
    rows.push({
      measurement: `${label}: end to end, POST to notification (${about})`,
      value: e.done ? e.rate : undefined,
      unit: 'orders/s',
      note: e.done
        ? undefined
        : `did not finish within ${DRAIN_SECONDS} s: ${e.notified} of ${e.created} notified`,
      reference: e2eReference && { value: e2eReference.rate },
      versus: versus === 'ceiling' ? 'ceiling POST' : to,
    });
    if (part.cost) {
      const { statements, commits, cpuMs, serversCpuMs, benchCpuMs } = part.cost;
      const ms = (value) => (value === null ? '?' : formatNumber(value));
      const together = part.instances ? `, ${part.instances} instances together` : '';
      const serverNames = label.includes('RabbitMQ') ? 'PostgreSQL and RabbitMQ' : 'PostgreSQL';
      const servers = serversCpuMs ? `, ${serverNames} ${ms(serversCpuMs)}` : '';
      const app = versus === 'ceiling' ? 'the app' : 'service';
      const cpu = `CPU per order: ${app} ${ms(cpuMs)} ms${together}${servers}, load generator ${ms(benchCpuMs)}`;
      if (statements !== null) {
        rows.push({
          measurement: `${label}: database statements per order (${formatNumber(commits)} commits; ${cpu})`,
          value: statements,
          unit: 'statements',
        });
      } else {
        rows.push({ measurement: `${label}: ${cpu}`, value: cpuMs, unit: 'ms CPU per order' });
      }
    }
    if (part.latency) {
      rows.push({
        measurement: `${label}: order latency at ${formatNumber(RATE)} req/s offered, POST commit to final status (${formatNumber(part.latency.orders)} orders)`,
        p50: part.latency.p50,
        p99: part.latency.p99,
      });
    }
    if (part.instances) return;
    rows.push(figure(`${label}: GET /orders/{id}`, part.read, 'req/s', ref?.read, to));
    rows.push(rss(`${label}: peak RSS`, part.peakRssMiB, ref?.peakRssMiB, to));
  };

  if (ok(naive)) workflowRows('naive', naive, ceiling, 'ceiling');
  else lineFor('naive', naive);
  for (const key of ['sqlite', 'pg', 'amqp', 'pg-cluster']) {
    if (ok(results[key])) workflowRows(LABELS[key], results[key], naive, 'naive');
    else lineFor(LABELS[key], results[key]);
  }

  if (ok(scale)) {
    const few = `SQLite, ${formatNumber(scale.small.orders)} orders`;
    const many = `SQLite, ${formatNumber(scale.large.orders)} orders`;
    const versus = `${formatNumber(scale.small.orders)} orders`;
    rows.push(
      figure(`${few}: GET /orders/{id}`, scale.small.one, 'req/s', scale.small.one, 'itself'),
    );
    rows.push(
      figure(`${many}: GET /orders/{id}`, scale.large.one, 'req/s', scale.small.one, versus),
    );
    rows.push(
      figure(
        `${few}: GET /orders (first page)`,
        scale.small.list,
        'req/s',
        scale.small.list,
        'itself',
      ),
    );
    rows.push(
      figure(
        `${many}: GET /orders (first page)`,
        scale.large.list,
        'req/s',
        scale.small.list,
        versus,
      ),
    );
    rows.push(rss(`${many}: peak RSS`, scale.large.peakRssMiB, scale.small.peakRssMiB, versus));
  } else lineFor('reads at scale', scale);
  return rows;
}

/** One line on the CPU that other processes took during each part's measurements. */
function cpuLine(results) {
  const names = { ceiling: 'ceiling', naive: 'naive', ...LABELS };
  const parts = [];
  let worst = 0;
  for (const [key, part] of Object.entries(results)) {
    const windows =
      key === 'scale' ? [part.small?.cpu, part.large?.cpu].filter(Boolean) : [part.cpu];
    if (!windows[0]) continue;
    worst = Math.max(worst, ...windows.map((w) => w.other));
    const label = key === 'scale' ? 'reads at scale' : names[key];
    parts.push(`${label} ${windows.map((w) => formatNumber(w.other)).join(' / ')}`);
  }
  if (parts.length === 0) return '';
  const cores = cpus().length;
  return (
    `CPU taken by other processes (not the bench, the measured app, or the PostgreSQL and ` +
    `RabbitMQ processes serving it), ` +
    `in cores of ${cores}: ${parts.join(', ')}.` +
    (worst >= 0.2 ? ' Other work was running: the figures of those parts are lower.' : '')
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = new Date();
  const host = machine(ROOT);
  const services = ['sqlite', 'pg', 'amqp', 'pg-cluster', 'scale'].filter((p) => ONLY.includes(p));
  if (services.length > 0 && !existsSync(join(ROOT, 'dist/main.js'))) {
    throw new Error('dist/main.js is missing: run `npm run bench`, which builds the service first');
  }
  if (ONLY.includes('naive')) {
    log('compiling bench/naive');
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'bench/naive/tsconfig.json'],
      { cwd: ROOT, stdio: 'inherit' },
    );
    if (tsc.status !== 0) throw new Error('bench/naive does not compile');
  }

  const run = { ceiling: ceilingPart, naive: naivePart, sqlite: sqlitePart, scale: scalePart };
  run.pg = () => postgresPart(false);
  run.amqp = () => postgresPart(true);
  const steps = { onPostgres, withCleanup, warmUp, postAndDrain, log };
  run['pg-cluster'] = () => clusterPart(INSTANCES, MAX_ORDERS, steps);
  const results = {};
  for (const part of ONLY.toSorted((a, b) => PARTS.indexOf(a) - PARTS.indexOf(b))) {
    log(`${part}`);
    try {
      results[part] = await run[part]();
      if (results[part].skipped) log(`  skipped: ${results[part].skipped}`);
    } catch (error) {
      log(`  failed: ${error.stack ?? error}`);
      results[part] = { error: String(error.message ?? error).split('\n')[0] };
    }
  }

  const rows = rowsOf(results);
  const table = renderTable(rows);
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const settings =
    `${CONNECTIONS} connections, ${formatNumber(SECONDS)} s per measurement; steady load ` +
    `${formatNumber(RATE)} req/s (${STEADY === 'open' ? 'open loop' : 'autocannon overallRate'}); ` +
    `service POST phase on PostgreSQL stops at ${formatNumber(MAX_ORDERS)} requests` +
    (ONLY.includes('pg-cluster') ? `; ${INSTANCES} instances in pg-cluster` : '');
  console.log(
    `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.os}; ` +
      `Node ${host.node}; autocannon ${host.autocannon}; commit ${host.commit}` +
      `${host.dirty ? ' (with changes)' : ''} on ${host.branch}`,
  );
  const tuning = SERVICE_TUNING.filter((name) => env[name]).map((name) => `${name}=${env[name]}`);
  console.log(
    `Load: ${settings}. Service settings from the environment: ` +
      `${tuning.length > 0 ? tuning.join(' ') : 'none'}. Run took ${Math.round(seconds)} s.\n`,
  );
  console.log(table);
  const cpuUse = cpuLine(results);
  if (cpuUse) console.log(`\n${cpuUse}`);
  const file = saveResults(ROOT, startedAt, {
    startedAt: startedAt.toISOString(),
    seconds,
    machine: host,
    settings: {
      parts: ONLY,
      seconds: SECONDS,
      connections: CONNECTIONS,
      rate: RATE,
      steady: STEADY,
      e2eMaxOrders: MAX_ORDERS,
      instances: INSTANCES,
      drainSeconds: DRAIN_SECONDS,
      seedOrders: SEED_ORDERS,
      serviceEnv: SERVICE_ENV,
      serviceEnvInherited: Object.fromEntries(
        SERVICE_TUNING.filter((name) => env[name]).map((name) => [name, env[name]]),
      ),
    },
    results,
    rows: rows.map(({ reference, ...row }) => ({ ...row, reference })),
    table,
  });
  console.log(`\nSaved ${relative(ROOT, file)}`);
}

await main();
