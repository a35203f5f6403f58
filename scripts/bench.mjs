// oxlint-disable no-console -- this script reports through its result table.
/**
 * Benchmark: the order service against the framework's own ceiling, measured in the same run on
 * the same machine with the same load generator (autocannon, BENCH_CONNECTIONS connections,
 * BENCH_SECONDS per measurement).
 *
 *   npm run bench                 (builds first)
 *
 * 1. Ceiling: a bare NestJS 12 application on Express, in its own process, answering a trivial
 *    GET and echoing a small JSON POST.
 * 2. The service (dist/main.js) on a fresh SQLite file, simulators at zero latency and no
 *    failures: GET /orders/{id}, and POST /orders with full validation and the transactional
 *    write of the order and its event.
 * 3. The workflow: how many orders per second go all the way from POST to their confirmation
 *    (eight events, five subscribers, about a dozen transactions each), counted from the log.
 *
 * Results are printed as a table with the ratio of each figure to its ceiling.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { freePort } from './lib/processes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

/** The bare application, run with `node --input-type=module -e` in its own process. */
const CEILING_APP = `
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
class Ping {
  ping() { return { ok: true }; }
  echo(body) { return body; }
}
Controller()(Ping);
const method = (name) => Object.getOwnPropertyDescriptor(Ping.prototype, name);
Get('ping')(Ping.prototype, 'ping', method('ping'));
Post('echo')(Ping.prototype, 'echo', method('echo'));
Body()(Ping.prototype, 'echo', 0);
Reflect.defineMetadata('design:paramtypes', [Object], Ping.prototype, 'echo');
class Bare {}
Module({ controllers: [Ping] })(Bare);
const app = await NestFactory.create(Bare, { logger: false });
await app.listen(Number(process.env.PORT), '127.0.0.1');
`;

function start(args, env) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited };
}

async function waitReady(base, path) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(base + path).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await delay(50);
  }
  throw new Error(`${base}${path} did not answer within 30 s`);
}

async function stop(process_) {
  process_.child.kill('SIGTERM');
  await process_.exited;
}

function load(options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

function figures(result) {
  const ok = result.requests.total - result.non2xx - result.errors - result.timeouts;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
    ok,
  };
}

const rows = [];
function report(name, measured, ceiling) {
  rows.push({
    measurement: name,
    'req/s': Math.round(measured.rps),
    'p50 ms': measured.p50,
    'p99 ms': measured.p99,
    'not 2xx': measured.failed,
    'ratio to ceiling': ceiling ? (measured.rps / ceiling.rps).toFixed(3) : '1',
  });
}

const order = JSON.stringify({
  customerId: 'bench',
  items: [{ productId: 'bench-product', quantity: 1 }],
});

async function main() {
  console.log(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s per measurement`);

  // 1. The framework's ceiling.
  const barePort = await freePort();
  const bare = start(['--input-type=module', '-e', CEILING_APP], { PORT: String(barePort) });
  const bareBase = `http://127.0.0.1:${barePort}`;
  await waitReady(bareBase, '/ping');
  const ceilingGet = figures(await load({ url: `${bareBase}/ping` }));
  const ceilingPost = figures(
    await load({
      url: `${bareBase}/echo`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: order,
    }),
  );
  await stop(bare);
  report('ceiling: NestJS GET (trivial)', ceilingGet);
  report('ceiling: NestJS POST (JSON echo)', ceilingPost);

  // 2. The service.
  const dir = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  const file = join(dir, 'orders.db');
  const port = await freePort();
  const service = start(['dist/main.js'], {
    PORT: String(port),
    DATABASE_URL: `sqlite:${file}`,
    LOG_LEVEL: 'error',
    PAYMENT_LATENCY_MS: '0',
    PAYMENT_FAILURE_RATE: '0',
    NOTIFICATION_LATENCY_MS: '0',
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base, '/health');
    const put = await fetch(`${base}/inventory/bench-product`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bench', unitPrice: '1.00', available: 1_000_000_000 }),
    });
    if (!put.ok) throw new Error(`PUT /inventory answered ${put.status}`);
    const first = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: order,
    }).then((r) => r.json());

    const read = figures(await load({ url: `${base}/orders/${first.id}` }));
    report('service: GET /orders/{id}', read, ceilingGet);

    const started = Date.now();
    const post = figures(
      await load({
        url: `${base}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: order,
      }),
    );
    report('service: POST /orders (202)', post, ceilingPost);

    // 3. The workflow: wait until every order has its confirmation, then count.
    const db = new Database(file, { readonly: true });
    const count = (type) =>
      db.prepare('SELECT count(*) AS n FROM event_log WHERE type = ?').get(type).n;
    const deadline = Date.now() + 600_000;
    let placed = count('OrderCreated');
    while (count('OrderConfirmationSent') + count('OrderFailureNotificationSent') < placed) {
      if (Date.now() > deadline) throw new Error('the workflow did not finish within 10 minutes');
      await delay(200);
      placed = count('OrderCreated');
    }
    const seconds = (Date.now() - started) / 1000;
    const completed = count('OrderCompleted');
    const events = db.prepare('SELECT count(*) AS n FROM event_log').get().n;
    db.close();
    rows.push({
      measurement: `workflow: ${placed} orders to confirmation`,
      'req/s': Math.round(placed / seconds),
      'p50 ms': '',
      'p99 ms': '',
      'not 2xx': placed - completed,
      'ratio to ceiling': (placed / seconds / ceilingPost.rps).toFixed(3),
    });
    console.table(rows);
    console.log(
      `workflow: ${completed} of ${placed} orders completed in ${seconds.toFixed(1)} s ` +
        `(${events} events, ${Math.round(events / seconds)} events/s delivered)`,
    );
  } finally {
    await stop(service);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
