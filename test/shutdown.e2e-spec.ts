import { once } from 'node:events';
import { eventually, removeTempDatabases, tempDatabaseUrl, TERMINAL } from './create-test-app.js';
import {
  adminHeaders,
  spawnBuiltService,
  startBuiltService,
  stopBuiltService,
  type BuiltService,
} from './support/built-service.js';

/** Every request is an admin's. */
const get = async (url: string) => fetch(url, { headers: await adminHeaders() });

/** The built service with 400 ms payments, so a shutdown finds charges in flight. */
const start = (databaseUrl: string) =>
  startBuiltService(databaseUrl, {
    PAYMENT_LATENCY_MS: '400',
    PAYMENT_FAILURE_RATE: '0',
    NOTIFICATION_LATENCY_MS: '50',
    SHUTDOWN_TIMEOUT_MS: '4000',
  });
const stop = stopBuiltService;

async function post(base: string, customerId: string): Promise<string> {
  const response = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await adminHeaders()) },
    body: JSON.stringify({ customerId, items: [{ productId: 'product-1', quantity: 1 }] }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

afterAll(() => removeTempDatabases());

describe('graceful shutdown (SIGTERM)', () => {
  let running: BuiltService | undefined;
  afterEach(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
  });

  it('stops taking requests, exits 0 in time, and the next start finishes the work', async () => {
    const databaseUrl = await tempDatabaseUrl();
    running = await start(databaseUrl);
    const first = running;
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => post(first.base, `c-${i}`)));
    // Let the workflow get under way: the charges (400 ms each) are in flight now.
    await eventually(
      () => get(`${first.base}/orders?status=PAYMENT_PROCESSING`).then((r) => r.json()),
      (page) => (page as { items: unknown[] }).items.length > 0,
      { what: 'a payment to be in flight' },
    );

    const { code, ms } = await stop(first);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(4000 + 1000);
    expect(first.output()).toContain('Shut down cleanly');
    await expect(fetch(`${first.base}/inventory`)).rejects.toThrow();

    running = await start(databaseUrl);
    const second = running;
    for (const id of ids) {
      const events = await eventually(
        async () => {
          const response = await get(`${second.base}/orders/${id}/events`);
          return ((await response.json()) as Array<{ type: string }>).map((e) => e.type);
        },
        (types) => types.includes('OrderConfirmationSent'),
        { what: `order ${id} to finish after the restart` },
      );
      expect(events.filter((type) => type === 'OrderConfirmationSent')).toHaveLength(1);
      expect(events.filter((type) => type === 'PaymentCompleted')).toHaveLength(1);
      const order = (await (await get(`${second.base}/orders/${id}`)).json()) as {
        status: string;
      };
      expect(TERMINAL).toContain(order.status);
    }
    expect((await stop(second)).code).toBe(0);
  });

  it('exits 0 right away when idle', async () => {
    running = await start(await tempDatabaseUrl());
    const { code, ms } = await stop(running);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
  });
});

describe('a configuration the service cannot run with', () => {
  /** Starts the built service with these settings (and no token key) and waits for its end. */
  async function startWith(settings: Record<string, string>) {
    const service = await spawnBuiltService({
      ...settings,
      DATABASE_URL: await tempDatabaseUrl(),
      JWT_SECRET: undefined,
      JWT_PUBLIC_KEY_FILE: undefined,
      JWT_JWKS_FILE: undefined,
    });
    const [code] = (await once(service.child, 'exit')) as [number | null];
    return { code, lines: service.output().trim().split('\n') };
  }

  it.each([
    [{ NODE_ENV: 'production' }, 'NODE_ENV=production needs a token key'],
    [{ JWT_ALGORITHM: 'RS256' }, 'JWT_ALGORITHM=RS256 needs JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE'],
  ])('%j ends with one line and exit code 2', async (settings, message) => {
    const { code, lines } = await startWith(settings);
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
  });
});
