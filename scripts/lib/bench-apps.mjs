// The applications the benchmark measures (framework ceiling, naive reference, the service), how
// to start and stop them, and how to count orders that have their final notification.
import { ADMIN_HEADERS, SCRIPT_JWT_SECRET } from './auth.mjs';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { withClient } from './database.mjs';
import { freePort } from './processes.mjs';

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

/** Environment of every service run: simulators at zero latency, no failures, no crash points. */
export const SERVICE_ENV = {
  LOG_LEVEL: 'error',
  PAYMENT_LATENCY_MS: '0',
  PAYMENT_FAILURE_RATE: '0',
  PAYMENT_TRANSIENT_FAILURE_RATE: '0',
  PAYMENT_HANG_RATE: '0',
  NOTIFICATION_LATENCY_MS: '0',
  CRASH_POINTS: '',
  CRASH_PROBABILITY: '0',
  AMQP_URL: '',
  // The bench's load comes from one principal: the rate limit is set out of its way.
  THROTTLE_LIMIT: '1000000000',
};

/** The service's other variables (src/config/app-config.ts): taken from the environment. */
export const SERVICE_TUNING = [
  'SQLITE_SYNCHRONOUS',
  'DATABASE_POOL_SIZE',
  'DISPATCH_CONCURRENCY',
  'DISPATCH_POLL_MS',
  'DISPATCH_BATCH_SIZE',
  'RETRY_MAX_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'PAYMENT_TIMEOUT_MS',
  'ORDER_STEP_TIMEOUT_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'AMQP_PREFETCH',
  'RANDOM_SEED',
];

const NOTIFICATIONS = ['OrderConfirmationSent', 'OrderFailureNotificationSent'];

/**
 * A Node.js process of ours: `node <args>` in `cwd`. Its stderr is kept (the last 8 KiB) to
 * explain an unexpected exit.
 */
export class NodeProcess {
  constructor(name, args, env, cwd) {
    this.name = name;
    this.stderr = '';
    this.child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-8192);
    });
    this.exitCode = undefined;
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? signal;
        resolve(this.exitCode);
      }),
    );
  }

  get pid() {
    return this.child.pid;
  }

  /** Throws if the process has exited. */
  check() {
    if (this.exitCode !== undefined) {
      const tail = this.stderr.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`${this.name} exited (${this.exitCode})${tail ? `: ${tail}` : ''}`);
    }
  }

  /** Peak resident set size (VmHWM) in MiB, or null when it cannot be read. */
  peakRssMiB() {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kib = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kib === undefined ? null : Number(kib) / 1024;
    } catch {
      return null;
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 15_000) {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Waits until `base + path` answers 2xx; fails early if the process exits. */
export async function waitReady(processRef, base, path, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    processRef.check();
    const ok = await fetch(base + path).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await delay(100);
  }
  throw new Error(`${base}${path} did not answer within ${timeoutMs / 1000} s`);
}

/** Starts the bare NestJS application (GET /ping, POST /echo). */
export async function startCeiling(root) {
  const port = await freePort();
  const app = new NodeProcess(
    'the ceiling app',
    ['--input-type=module', '-e', CEILING_APP],
    {
      PORT: String(port),
    },
    root,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(app, base, '/ping');
  return { process: app, base, headers: {} };
}

/** Starts the naive reference (bench/naive, compiled to bench/naive/dist). */
export async function startNaive(root) {
  const port = await freePort();
  const app = new NodeProcess(
    'the naive reference',
    ['bench/naive/dist/main.js'],
    {
      PORT: String(port),
    },
    root,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(app, base, '/health');
  return { process: app, base, headers: {}, counter: statsCounter(base) };
}

/** Starts the built service (dist/main.js) on `databaseUrl`, with `env` on top of SERVICE_ENV. */
export async function startService(root, databaseUrl, env = {}) {
  const port = await freePort();
  const app = new NodeProcess(
    'the service',
    ['dist/main.js'],
    {
      ...SERVICE_ENV,
      ...env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      // Access control as deployed: the bench is an admin with a token of the run's own secret
      // (kept out of SERVICE_ENV, which the results file records).
      JWT_SECRET: SCRIPT_JWT_SECRET,
    },
    root,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitReady(app, base, '/health');
  return { process: app, base, headers: ADMIN_HEADERS };
}

/** Adds or refills the bench product through PUT /inventory/{id}. */
export async function putProduct(app, productId) {
  const response = await fetch(`${app.base}/inventory/${productId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...app.headers },
    body: JSON.stringify({ name: 'Bench product', unitPrice: '1.00', available: 1_000_000_000 }),
  });
  if (!response.ok) {
    throw new Error(
      `PUT /inventory/${productId} answered ${response.status}: ${await response.text()}`,
    );
  }
}

/** Places one order; returns its id. */
export async function placeOrder(app, body) {
  const response = await fetch(`${app.base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...app.headers },
    body,
  });
  if (response.status !== 202) {
    throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()).id;
}

/**
 * Counters read what the workflow has done. `read()` returns the orders created and the orders
 * with their final notification so far, and when the last notification was sent (ms since the
 * epoch).
 * @typedef {{ created: number, notified: number, failed: number, lastNotifiedAt: number | null }} Count
 * @typedef {{ read(): Promise<Count>, close(): Promise<void> }} Counter
 */

/** Counts through the naive reference's GET /stats. */
export function statsCounter(base) {
  return {
    async read() {
      const stats = await (await fetch(`${base}/stats`)).json();
      return {
        created: stats.orders,
        notified: stats.notified,
        failed: stats.failures,
        lastNotifiedAt: stats.lastNotifiedAt,
      };
    },
    close: () => Promise.resolve(),
  };
}

// The service's event log: OrderCreated per order, one of NOTIFICATIONS per finished order. The
// whole log is counted at every poll: counting only rows past the last seq seen would miss, on
// PostgreSQL, a row whose transaction took its seq earlier and committed later.
const COUNT_SQL = (p) => `
  SELECT type, count(*) AS n, max(occurred_at) AS last FROM event_log
  WHERE type IN (${p(1)}, ${p(2)}, ${p(3)}) GROUP BY type`;

function toCount(rows) {
  const count = { created: 0, notified: 0, failed: 0, lastNotifiedAt: null };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.type === 'OrderCreated') {
      count.created = n;
      continue;
    }
    count.notified += n;
    if (row.type === 'OrderFailureNotificationSent') count.failed = n;
    count.lastNotifiedAt = Math.max(count.lastNotifiedAt ?? 0, Date.parse(row.last));
  }
  return count;
}

/** Counts from the service's SQLite file (a read-only connection beside the service's). */
export function sqliteCounter(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const statement = db.prepare(COUNT_SQL(() => '?'));
  return {
    read: () => Promise.resolve(toCount(statement.all('OrderCreated', ...NOTIFICATIONS))),
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

/** Counts from the service's PostgreSQL database. */
export async function postgresCounter(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const sql = COUNT_SQL((i) => `$${i}`);
  return {
    read: async () => toCount((await client.query(sql, ['OrderCreated', ...NOTIFICATIONS])).rows),
    close: () => client.end().catch(() => undefined),
  };
}

/** A new PostgreSQL database on the server of `adminUrl`; returns its URL and a drop function. */
export async function createPostgresDatabase(adminUrl) {
  const name = `orders_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}
