import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import type { OrderPage, OrderView, Problem } from './api-types.js';
import {
  ADMIN_SUB,
  createTestApp,
  expectProblem,
  placeOrder,
  removeTempDatabases,
  settled,
  type Api,
  type TestApp,
} from './create-test-app.js';
import { mintToken } from './support/tokens.js';

afterAll(() => removeTempDatabases());

const PROBLEM_JSON = /^application\/problem\+json/;

type Who = 'anonymous' | 'owner' | 'other customer' | 'admin';
const EVERYONE: Who[] = ['anonymous', 'owner', 'other customer', 'admin'];

/**
 * What each principal gets from each endpoint. "allowed" means the request went past access
 * control (its own answer: 200, 202, a 409 for a state conflict, a 404 for an unknown dead letter);
 * every refusal is named by its status: 401 no valid token, 403 role or customer not allowed, 404
 * another customer's order (answered like an unknown one).
 */
type Outcome = 'allowed' | 401 | 403 | 404;

interface Row {
  endpoint: string;
  send: (api: Api, ids: Ids) => request.Test;
  expected: Record<Who, Outcome>;
}

interface Ids {
  order: string;
  cancellable: string;
}

const PRODUCT_PUT = { name: 'Widget', unitPrice: '3.00', available: 10 };

const TABLE: Row[] = [
  {
    endpoint: 'GET /health',
    send: (a) => a.get('/health'),
    expected: {
      anonymous: 'allowed',
      owner: 'allowed',
      'other customer': 'allowed',
      admin: 'allowed',
    },
  },
  {
    endpoint: 'GET /health/live',
    send: (a) => a.get('/health/live'),
    expected: {
      anonymous: 'allowed',
      owner: 'allowed',
      'other customer': 'allowed',
      admin: 'allowed',
    },
  },
  {
    endpoint: 'GET /health/ready',
    send: (a) => a.get('/health/ready'),
    expected: {
      anonymous: 'allowed',
      owner: 'allowed',
      'other customer': 'allowed',
      admin: 'allowed',
    },
  },
  {
    endpoint: 'GET /docs/asyncapi.json',
    send: (a) => a.get('/docs/asyncapi.json'),
    expected: {
      anonymous: 'allowed',
      owner: 'allowed',
      'other customer': 'allowed',
      admin: 'allowed',
    },
  },
  {
    endpoint: 'GET /docs-json',
    send: (a) => a.get('/docs-json'),
    expected: {
      anonymous: 'allowed',
      owner: 'allowed',
      'other customer': 'allowed',
      admin: 'allowed',
    },
  },
  {
    endpoint: 'POST /orders for customer-A',
    send: (a) =>
      a
        .post('/orders')
        .send({ customerId: 'customer-A', items: [{ productId: 'product-1', quantity: 1 }] }),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /orders',
    send: (a) => a.get('/orders'),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 'allowed', admin: 'allowed' },
  },
  {
    endpoint: 'GET /orders?customerId=customer-A',
    send: (a) => a.get('/orders').query({ customerId: 'customer-A' }),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: "GET /orders/{customer-A's order}",
    send: (a, ids) => a.get(`/orders/${ids.order}`),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: "GET /orders/{customer-A's order}/events",
    send: (a, ids) => a.get(`/orders/${ids.order}/events`),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: "GET /orders/{customer-A's order}/stream",
    send: (a, ids) => a.get(`/orders/${ids.order}/stream`),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: "POST /orders/{customer-A's order}/cancel",
    send: (a, ids) => a.post(`/orders/${ids.cancellable}/cancel`).send({}),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: "GET /payments?orderId={customer-A's order}",
    send: (a, ids) => a.get('/payments').query({ orderId: ids.order }),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: 'GET /payments',
    send: (a) => a.get('/payments'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: "GET /notifications?orderId={customer-A's order}",
    send: (a, ids) => a.get('/notifications').query({ orderId: ids.order }),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 404, admin: 'allowed' },
  },
  {
    endpoint: 'GET /notifications',
    send: (a) => a.get('/notifications'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /inventory',
    send: (a) => a.get('/inventory'),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 'allowed', admin: 'allowed' },
  },
  {
    endpoint: 'GET /inventory/product-1',
    send: (a) => a.get('/inventory/product-1'),
    expected: { anonymous: 401, owner: 'allowed', 'other customer': 'allowed', admin: 'allowed' },
  },
  {
    endpoint: 'PUT /inventory/acl-product',
    send: (a) => a.put('/inventory/acl-product').send(PRODUCT_PUT),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'POST /inventory/product-3/adjustments',
    send: (a) => a.post('/inventory/product-3/adjustments').send({ delta: 1, reason: 'recount' }),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /inventory/product-3/audit',
    send: (a) => a.get('/inventory/product-3/audit'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'POST /admin/customers/nobody/erasure',
    send: (a) => a.post('/admin/customers/nobody/erasure'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /metrics',
    send: (a) => a.get('/metrics'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /admin/overview',
    send: (a) => a.get('/admin/overview'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'GET /admin/dead-letters',
    send: (a) => a.get('/admin/dead-letters'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
  {
    endpoint: 'POST /admin/dead-letters/{unknown}/replay',
    send: (a) => a.post('/admin/dead-letters/no-such-letter/replay'),
    expected: { anonymous: 401, owner: 403, 'other customer': 403, admin: 'allowed' },
  },
];

function outcomeOf(response: request.Response): Outcome {
  if (response.status === 401 || response.status === 403) return response.status;
  // A 404 of an order, payment or e-mail listing is the scope refusal; an unknown dead letter
  // is the admin's own 404 past access control.
  if (response.status === 404 && (response.body as Problem).code === 'ORDER_NOT_FOUND') return 404;
  return 'allowed';
}

describe('Who may do what: every role on every endpoint', () => {
  let t: TestApp;
  let clients: Record<Who, Api>;
  let ids: Ids;

  beforeAll(async () => {
    t = await createTestApp();
    clients = {
      anonymous: request.agent(t.http),
      owner: await t.as('customer-A'),
      'other customer': await t.as('customer-B'),
      admin: t.api,
    };
    const order = await placeOrder(
      clients.owner,
      [{ productId: 'product-1', quantity: 1 }],
      'customer-A',
    );
    await settled(t.api, order);
    // An unknown product fails the order at once: a cancel of it is allowed and answered 409.
    const cancellable = await placeOrder(
      clients.owner,
      [{ productId: 'no-such-product', quantity: 1 }],
      'customer-A',
    );
    ids = { order, cancellable };
  });
  afterAll(() => t.close());

  const cases = TABLE.flatMap((row) => EVERYONE.map((who) => [row.endpoint, who, row] as const));
  it.each(cases)('%s as %s', async (_endpoint, who, row) => {
    const response = await row.send(clients[who], ids);
    const outcome = outcomeOf(response);
    expect({ status: response.status, outcome }).toMatchObject({ outcome: row.expected[who] });
    if (outcome !== 'allowed') expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    if (outcome === 401) expect(response.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('A customer acts for itself', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it("places an order for its token's sub when the body names no customer", async () => {
    const alice = await t.as('alice');
    const response = await alice
      .post('/orders')
      .send({ items: [{ productId: 'product-1', quantity: 1 }] })
      .expect(202);
    expect((response.body as OrderView).customerId).toBe('alice');
  });

  it('lists only its own orders, whatever others placed', async () => {
    const bob = await t.as('bob');
    const mine = await placeOrder(bob, [{ productId: 'product-2', quantity: 1 }], 'bob');
    await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }], 'carol');
    const page = (await bob.get('/orders').expect(200)).body as OrderPage;
    expect(page.items.map((o) => o.customerId)).toEqual(['bob']);
    expect(page.items[0].id).toBe(mine);
  });

  it('refuses another customer in the body with 403 and stores nothing', async () => {
    const alice = await t.as('alice');
    const before = ((await t.api.get('/orders').query({ customerId: 'dave' })).body as OrderPage)
      .items.length;
    const response = await alice
      .post('/orders')
      .send({ customerId: 'dave', items: [{ productId: 'product-1', quantity: 1 }] });
    expect(expectProblem(response, 403).code).toBe('FORBIDDEN');
    const after = (await t.api.get('/orders').query({ customerId: 'dave' })).body as OrderPage;
    expect(after.items).toHaveLength(before);
  });

  it('requires an admin to name the customer it orders for', async () => {
    const response = await t.api
      .post('/orders')
      .send({ items: [{ productId: 'product-1', quantity: 1 }] });
    expect(expectProblem(response, 400).errors?.[0].field).toBe('customerId');
  });

  it('cannot set a price to 0.00 and then buy for nothing', async () => {
    const mallory = await t.as('mallory');
    const before = (
      (await t.api.get('/inventory/product-1').expect(200)).body as { unitPrice: string }
    ).unitPrice;
    for (const client of [mallory, request.agent(t.http)]) {
      const response = await client
        .put('/inventory/product-1')
        .send({ name: 'Widget', unitPrice: '0.00', available: 1000 });
      expect([401, 403]).toContain(expectProblem(response, response.status).status);
    }
    const id = await placeOrder(mallory, [{ productId: 'product-1', quantity: 10 }], 'mallory');
    const order = await settled(t.api, id);
    expect(order.items[0].unitPrice).toBe(before);
    expect(order.totalAmount).not.toBe('0.00');
  });

  it('has Idempotency-Keys of its own: the same key of two customers places two orders', async () => {
    const body = { items: [{ productId: 'product-2', quantity: 1 }] };
    const post = async (client: Api) =>
      (await client.post('/orders').set('idempotency-key', 'order-1').send(body).expect(202))
        .body as OrderView;
    const [alice, bob] = [await t.as('key-alice'), await t.as('key-bob')];
    const first = await post(alice);
    const squatted = await post(bob);
    expect(squatted.id).not.toBe(first.id);
    expect(squatted.customerId).toBe('key-bob');
    const again = await alice.post('/orders').set('idempotency-key', 'order-1').send(body);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((again.body as OrderView).id).toBe(first.id);
  });

  it("shares no Idempotency-Key with an admin whose sub it takes: its own order, not the admin's answer", async () => {
    const key = 'admin-key-1';
    const adminOrder = (
      await t.api
        .post('/orders')
        .set('idempotency-key', key)
        .send({ customerId: 'someone', items: [{ productId: 'product-2', quantity: 1 }] })
        .expect(202)
    ).body as OrderView;
    const lookalike = await t.as(ADMIN_SUB);
    const response = await lookalike
      .post('/orders')
      .set('idempotency-key', key)
      .send({ items: [{ productId: 'product-1', quantity: 2 }] });
    expect(response.status).toBe(202);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    expect((response.body as OrderView).id).not.toBe(adminOrder.id);
    expect((response.body as OrderView).customerId).toBe(ADMIN_SUB);
  });

  it("cannot cancel another customer's order: 404, and the order is untouched", async () => {
    const victim = await placeOrder(
      t.api,
      [{ productId: 'no-such-product', quantity: 1 }],
      'victim',
    );
    const mallory = await t.as('mallory');
    const response = await mallory.post(`/orders/${victim}/cancel`).send({ reason: 'mine now' });
    expect(expectProblem(response, 404).code).toBe('ORDER_NOT_FOUND');
    const events = (await t.api.get(`/orders/${victim}/events`).expect(200)).body as Array<{
      type: string;
    }>;
    expect(events.map((e) => e.type)).not.toContain('OrderCancelled');
  });
});

describe('Tokens that are refused', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ config: { jwtAudience: 'orders-api' } })));
  afterAll(() => t.close());

  const claims = { aud: 'orders-api' };
  const forged: Array<[string, () => Promise<string>]> = [
    [
      'alg "none"',
      () => {
        const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
        const exp = Math.floor(Date.now() / 1000) + 3600;
        return Promise.resolve(
          `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'x', role: 'admin', aud: 'orders-api', exp })}.`,
        );
      },
    ],
    ['signed with another key', () => mintToken({ role: 'admin', secret: 'x'.repeat(40), claims })],
    ['expired', () => mintToken({ role: 'admin', expiresIn: -120, claims })],
    ['for another audience', () => mintToken({ role: 'admin', claims: { aud: 'billing' } })],
    ['without an audience', () => mintToken({ role: 'admin' })],
    ['with an unknown role', () => mintToken({ role: 'root' as 'admin', claims })],
    [
      'without exp',
      () =>
        new SignJWT({ role: 'admin', aud: 'orders-api' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('x')
          .sign(new TextEncoder().encode(t.config.jwtSecret)),
    ],
    ['that is not a JWT', () => Promise.resolve('not-a-token')],
    [
      'that lives until the year 3000',
      () =>
        mintToken({
          role: 'admin',
          expiresIn: Math.floor(Date.UTC(3000, 0, 1) / 1000 - Date.now() / 1000),
          claims,
        }),
    ],
    [
      'that lives 25 hours (JWT_MAX_TTL_SECONDS: a day)',
      () => mintToken({ role: 'admin', expiresIn: 25 * 3600, claims }),
    ],
    [
      'of a customer whose sub takes the admins\' prefix "admin:"',
      () => mintToken({ role: 'customer', sub: 'admin:local', claims }),
    ],
  ];

  it.each(forged)(
    'refuses a token %s with 401, a Bearer challenge and problem+json',
    async (_what, make) => {
      const response = await request(t.http)
        .get('/admin/dead-letters')
        .set('authorization', `Bearer ${await make()}`);
      const problem = expectProblem(response, 401);
      expect(problem.code).toBe('UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    },
  );

  it('refuses an Authorization header that is not a bearer token', async () => {
    const response = await request(t.http)
      .get('/orders')
      .set('authorization', 'Basic YWRtaW46YWRtaW4=');
    expectProblem(response, 401);
  });

  it('accepts a good token for this audience (the control)', async () => {
    const token = await mintToken({ role: 'admin', claims });
    await request(t.http)
      .get('/admin/dead-letters')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
  });

  it('accepts a token that lives 23 hours, within JWT_MAX_TTL_SECONDS', async () => {
    const token = await mintToken({ role: 'admin', expiresIn: 23 * 3600, claims });
    await request(t.http)
      .get('/admin/dead-letters')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
  });

  it('tolerates a token expired within the clock skew, not beyond', async () => {
    const recent = await mintToken({ role: 'admin', expiresIn: -5, claims });
    await request(t.http)
      .get('/admin/dead-letters')
      .set('authorization', `Bearer ${recent}`)
      .expect(200);
  });
});

describe('Tokens of an identity provider (RS256 public key, ES256 key set)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orders-keys-'));

  it('accepts RS256 tokens verified with a PEM public key, and refuses HS256 ones', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const file = join(dir, 'idp.pem');
    writeFileSync(file, await exportSPKI(publicKey));
    const t = await createTestApp({
      config: {
        jwtAlgorithm: 'RS256',
        jwtPublicKeyFile: file,
        jwtSecret: '',
        jwtIssuer: 'https://idp.example',
      },
    });
    try {
      const token = await new SignJWT({ role: 'customer' })
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('erin')
        .setIssuer('https://idp.example')
        .setExpirationTime('10m')
        .sign(privateKey);
      const response = await request(t.http)
        .get('/orders')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect((response.body as OrderPage).items).toEqual([]);
      // The same claims signed with HS256 (any key): the algorithm is pinned.
      const hs = await mintToken({ role: 'admin', claims: { iss: 'https://idp.example' } });
      expectProblem(await request(t.http).get('/orders').set('authorization', `Bearer ${hs}`), 401);
      const otherIssuer = await new SignJWT({ role: 'customer' })
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('erin')
        .setIssuer('https://evil.example')
        .setExpirationTime('10m')
        .sign(privateKey);
      expectProblem(
        await request(t.http).get('/orders').set('authorization', `Bearer ${otherIssuer}`),
        401,
      );
    } finally {
      await t.close();
    }
  });

  it('accepts ES256 tokens whose kid is in the JWKS file', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const t = await createTestApp({
      config: { jwtAlgorithm: 'ES256', jwtJwksFile: file, jwtSecret: '' },
    });
    try {
      const sign = (kid: string) =>
        new SignJWT({ role: 'admin' })
          .setProtectedHeader({ alg: 'ES256', kid })
          .setSubject('ops')
          .setExpirationTime('10m')
          .sign(privateKey);
      await request(t.http)
        .get('/admin/dead-letters')
        .set('authorization', `Bearer ${await sign('key-1')}`)
        .expect(200);
      expectProblem(
        await request(t.http)
          .get('/admin/dead-letters')
          .set('authorization', `Bearer ${await sign('key-2')}`),
        401,
      );
    } finally {
      await t.close();
    }
  });
});

describe('Keys at start', () => {
  it('creates a development secret in the data folder when no key is configured, and uses it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orders-secret-')), 'data', 'jwt-secret');
    const t = await createTestApp({ config: { jwtSecret: '', jwtSecretFile: file } });
    try {
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = readFileSync(file, 'utf8').trim();
      expect(secret.length).toBeGreaterThanOrEqual(32);
      const token = await mintToken({ role: 'admin', secret });
      await request(t.http)
        .get('/admin/dead-letters')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
    } finally {
      await t.close();
    }
  });

  it('refuses to start in production without a configured key', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orders-secret-')), 'jwt-secret');
    await expect(
      createTestApp({ config: { jwtSecret: '', jwtSecretFile: file, nodeEnv: 'production' } }),
    ).rejects.toThrow(ConfigError);
    expect(existsSync(file)).toBe(false);
  });

  it('never writes a secret into a configuration error', () => {
    const secret = 'too-short-but-secret';
    let message = '';
    try {
      loadConfig({ JWT_SECRET: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('JWT_SECRET');
    expect(message).not.toContain(secret);
  });
});

describe('Rate limits', () => {
  let t: TestApp;
  beforeAll(
    async () => (t = await createTestApp({ config: { throttleLimit: 5, throttleTtlMs: 60_000 } })),
  );
  afterAll(() => t.close());

  it('answers 429 problem+json with Retry-After past THROTTLE_LIMIT, per principal', async () => {
    const greedy = await t.as('greedy');
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await greedy.get('/inventory')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const response = await greedy.get('/inventory');
    expect(expectProblem(response, 429).code).toBe('RATE_LIMITED');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    // Another principal has a budget of its own; health checks are never limited.
    await (await t.as('patient')).get('/inventory').expect(200);
    for (let i = 0; i < 10; i++) await request(t.http).get('/health').expect(200);
  });

  it("gives a customer whose sub is an admin's a bucket of its own", async () => {
    const lookalike = await t.as(ADMIN_SUB);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await lookalike.get('/inventory')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    await t.api.get('/inventory').expect(200);
  });

  it('counts requests without a valid token by address', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await request(t.http).get('/orders').set('authorization', 'Bearer nope')).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
