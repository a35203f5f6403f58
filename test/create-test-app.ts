import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Provider, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import type { Principal } from '../src/auth/principal.js';
import { configureApp } from '../src/app.js';
import { AppModule } from '../src/app.module.js';
import { LOG_DESTINATION } from '../src/common/logging/logging.module.js';
import { loadConfig, type AppConfig } from '../src/config/app-config.js';
import { SubscriberRegistry } from '../src/durable-cqrs/subscribers.js';
import { TERMINAL_STATUSES } from '../src/orders/domain/order-status.js';
import type { Problem } from './api-types.js';
import { recordValidatedCount, ResponseValidator } from './support/response-validator.js';
import { mintToken, TEST_JWT_SECRET } from './support/tokens.js';

/** The `sub` of the admin that `TestApp.api` sends requests as. */
export const ADMIN_SUB = 'test-admin';

/** Requests to a test application, every one with the same bearer token. */
export type Api = ReturnType<typeof request.agent>;

export interface TestApp {
  app: NestExpressApplication;
  /** The HTTP server: requests without a token. */
  http: App;
  /** Requests as an admin. */
  api: Api;
  /** Requests as this principal (a customer by default: `as('customer-7')`). */
  as(sub: string, role?: Principal['role']): Promise<Api>;
  config: AppConfig;
  /** Closes the application; the database file stays for a restart. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  config?: Partial<AppConfig>;
  /** Replace providers (for fault injection) by token. */
  overrides?: Array<{ token: unknown; useValue: unknown }>;
  /** Extra providers, such as a test saga. */
  providers?: Provider[];
  /**
   * Where the application's log lines go (one JSON object per line), at LOG_LEVEL `log` unless
   * the config says otherwise. Without it, only errors are written, to stdout.
   */
  logs?: DestinationStream;
  /**
   * Every answer to `api` and `as()` is checked against the OpenAPI document (the test fails on
   * a mismatch). Only tests that send deliberately malformed requests may turn it off.
   */
  validateResponses?: boolean;
}

/** Built from the first application's document: every application serves the same one. */
let responseValidator: ResponseValidator | undefined;

afterAll(() => {
  recordValidatedCount(expect.getState().testPath ?? 'unknown', responseValidator?.validated ?? 0);
});

/** The number of answers checked against the OpenAPI document in this test file. */
export function validatedResponses(): number {
  return responseValidator?.validated ?? 0;
}

const dirs: string[] = [];
const prefixes: string[] = [];
/** The subscribers (so the queues) of each test prefix, for the clean-up. */
const subscribersByPrefix = new Map<string, string[]>();
const pgDatabases: string[] = [];

/**
 * A fresh, empty database as a DATABASE_URL: a SQLite file in a temporary folder, or, when
 * TEST_DATABASE_URL names a PostgreSQL server, a new database on it (the same suites run on both).
 */
/**
 * Where a test application's log lines go when the test does not read them: a file per test file
 * in the run's TEST_LOG_DIR (test/support/run-reporter.js prints it when the file fails), so the
 * errors of handlers that fail on purpose stay out of the output. Undefined outside the run.
 */
function runLogFile(): DestinationStream | undefined {
  const dir = process.env.TEST_LOG_DIR;
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(expect.getState().testPath ?? 'unknown')}.log`);
  return { write: (line: string) => appendFileSync(file, line) };
}

export async function tempDatabaseUrl(): Promise<string> {
  const server = process.env.TEST_DATABASE_URL;
  if (server) {
    const name = `orders_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await withAdmin(server, (client) => client.query(`CREATE DATABASE ${name}`));
    pgDatabases.push(name);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return url.toString();
  }
  const dir = mkdtempSync(join(tmpdir(), 'orders-test-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'orders.db')}`;
}

/**
 * With TEST_AMQP_URL, every application delivers through RabbitMQ under a prefix of its own (the
 * same suites then run on the broker transport); otherwise delivery is in-process.
 */
function tempBroker(): Promise<Partial<AppConfig>> {
  const url = process.env.TEST_AMQP_URL;
  if (!url) return Promise.resolve({});
  const amqpPrefix = `test-${randomUUID().slice(0, 8)}`;
  prefixes.push(amqpPrefix);
  return Promise.resolve({ amqpUrl: url, amqpPrefix });
}

/** Deletes the queues and exchanges of the test prefixes (RabbitMQ keeps durable ones). */
async function removeTempBrokerObjects(): Promise<void> {
  const url = process.env.TEST_AMQP_URL;
  const names = prefixes.splice(0);
  if (!url || names.length === 0) return;
  const { default: amqp } = await import('amqplib');
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const prefix of names) {
      const queues = [
        'dead-letters',
        ...DELAY_NAMES,
        ...(subscribersByPrefix.get(prefix) ?? []).map((id) => `sub.${id}`),
      ];
      for (const queue of queues) await channel.deleteQueue(`${prefix}.${queue}`);
      for (const exchange of ['events', 'requeue', ...DELAY_NAMES]) {
        await channel.deleteExchange(`${prefix}.${exchange}`);
      }
    }
    await channel.close();
  } finally {
    await connection.close();
  }
}

const DELAY_NAMES = [50, 250, 1000, 5000, 30000, 120000].map((ms) => `delay.${ms}`);

export async function removeTempDatabases(): Promise<void> {
  await removeTempBrokerObjects();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  const server = process.env.TEST_DATABASE_URL;
  if (server && pgDatabases.length > 0) {
    const names = pgDatabases.splice(0);
    await withAdmin(server, async (client) => {
      for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Builds the application as main.ts does (same module, same configureApp), on a temporary
 * SQLite file, with fast simulators. The simulators are configured, not stubbed.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig(
    {},
    {
      databaseUrl: await tempDatabaseUrl(),
      ...(await tempBroker()),
      paymentLatencyMs: 5,
      paymentFailureRate: 0,
      notificationLatencyMs: 1,
      retryBaseDelayMs: 10,
      dispatchPollMs: 50,
      jwtSecret: TEST_JWT_SECRET,
      // Tests send bursts from one principal; the rate limit's own test sets a low one.
      throttleLimit: 1_000_000,
      logLevel: options.logs ? 'log' : 'error',
      logFormat: 'json',
      ...options.config,
    },
  );
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
    providers: options.providers ?? [],
  });
  const overrides = [...(options.overrides ?? [])];
  const logs = options.logs ?? runLogFile();
  if (logs) overrides.push({ token: LOG_DESTINATION, useValue: logs });
  for (const { token, useValue } of overrides) {
    builder = builder.overrideProvider(token as Type).useValue(useValue);
  }
  const moduleRef = await builder.compile();
  moduleRef.useLogger(['error']);
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false });
  const document = configureApp(app);
  await app.init();
  const validator = options.validateResponses === false ? undefined : validatorFor(document);
  if (config.amqpUrl) {
    subscribersByPrefix.set(
      config.amqpPrefix,
      app
        .get(SubscriberRegistry)
        .all()
        .map((subscriber) => subscriber.id),
    );
  }
  const http = app.getHttpServer() as App;
  const as = async (sub: string, role: Principal['role'] = 'customer') => {
    const agent = request.agent(http);
    if (validator) {
      // Runs as the first assertion of every request, so before the test's own.
      agent.use((req: request.Test) => {
        req.expect((response) => validator.check(req.method, req.url, response));
      });
    }
    return agent.set('authorization', `Bearer ${await mintToken({ role, sub })}`);
  };
  return { app, http, api: await as(ADMIN_SUB, 'admin'), as, config, close: () => app.close() };
}

function validatorFor(document: OpenAPIObject): ResponseValidator {
  responseValidator ??= new ResponseValidator(document);
  return responseValidator;
}

/** Polls `read` until `done` holds, or fails after the deadline with the last value seen. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 15_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    }
    await delay(intervalMs);
  }
}

/** The statuses an order ends in, from the lifecycle's one definition. */
export const TERMINAL: readonly string[] = TERMINAL_STATUSES;

/** The event types of a completed order of two lines, in the order they happen. */
export const COMPLETED_TWO_LINE_TRAIL = [
  'OrderCreated',
  'OrderValidated',
  'InventoryReserved',
  'InventoryReserved',
  'OrderProcessingStarted',
  'PaymentInitiated',
  'PaymentCompleted',
  'OrderCompleted',
  'OrderConfirmationSent',
];

export interface OrderBody {
  id: string;
  status: string;
  failureReason: string | null;
  totalAmount: string | null;
  items: Array<{ productId: string; quantity: number; unitPrice: string | null }>;
}

export async function getOrder(api: Api, id: string): Promise<OrderBody> {
  const response = await api.get(`/orders/${id}`).expect(200);
  return response.body as OrderBody;
}

/** Waits until the order is terminal and its final notification event is in its history. */
export async function settled(api: Api, id: string, timeoutMs = 15_000): Promise<OrderBody> {
  await eventually(
    () => orderEventTypes(api, id),
    (types) =>
      types.includes('OrderConfirmationSent') || types.includes('OrderFailureNotificationSent'),
    { timeoutMs, what: `order ${id} to be settled` },
  );
  return getOrder(api, id);
}

export async function orderEventTypes(api: Api, id: string): Promise<string[]> {
  const response = await api.get(`/orders/${id}/events`).expect(200);
  return (response.body as Array<{ type: string }>).map((e) => e.type);
}

export async function placeOrder(
  api: Api,
  items: Array<{ productId: string; quantity: number }>,
  customerId = 'customer-1',
): Promise<string> {
  const response = await api
    .post('/orders')
    .send({ customerId, customerEmail: 'ada@example.com', items })
    .expect(202);
  return (response.body as { id: string }).id;
}

export async function stockOf(
  api: Api,
  productId: string,
): Promise<{ available: number; reserved: number; sold: number }> {
  const response = await api.get(`/inventory/${productId}`).expect(200);
  return response.body as { available: number; reserved: number; sold: number };
}

const PROBLEM_JSON = /^application\/problem\+json\b/;

/** Asserts an RFC 9457 answer with the given status and returns its body. */
export function expectProblem(
  response: Pick<request.Response, 'status' | 'text'> & { headers: Record<string, unknown> },
  status: number,
): Problem {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
  // problem+json is not parsed by supertest: read the raw text.
  const body = JSON.parse(response.text) as Problem;
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.any(String) as unknown,
      title: expect.any(String) as unknown,
      status,
      detail: expect.any(String) as unknown,
    }),
  );
  expect(body.type.length).toBeGreaterThan(0);
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  return body;
}
