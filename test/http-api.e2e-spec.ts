import {
  createTestApp,
  eventually,
  expectProblem,
  placeOrder,
  removeTempDatabases,
  settled,
  stockOf,
  type Api,
  type TestApp,
} from './create-test-app.js';
import type {
  OrderView,
  OrderPage,
  OrderEvent,
  Product,
  Payment,
  Notification,
} from './api-types.js';

/** End-to-end tests of the public HTTP API, through supertest, on the real application. */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

async function listOrders(api: Api, query: Record<string, string | number> = {}) {
  const response = await api.get('/orders').query(query).expect(200);
  return response.body as OrderPage;
}

async function inventory(api: Api): Promise<Product[]> {
  const response = await api.get('/inventory').expect(200);
  return response.body as Product[];
}

/** Newest first: createdAt descending, ties broken by id descending. */
function isNewestFirst(orders: OrderView[]): boolean {
  return orders.every((order, i) => {
    if (i === 0) return true;
    const previous = orders[i - 1];
    if (previous.createdAt !== order.createdAt) return previous.createdAt > order.createdAt;
    return previous.id > order.id;
  });
}

/** Follows nextCursor from the first page to the last; returns every page. */
async function allPages(api: Api, query: Record<string, string | number>): Promise<OrderPage[]> {
  const pages: OrderPage[] = [];
  let cursor: string | null = null;
  do {
    const page = await listOrders(api, cursor === null ? query : { ...query, cursor });
    pages.push(page);
    cursor = page.nextCursor;
    if (pages.length > 50) throw new Error('pagination does not end');
  } while (cursor !== null);
  return pages;
}

const validItems = [{ productId: 'product-1', quantity: 1 }];

afterAll(() => removeTempDatabases());

describe('POST /orders: invalid requests', () => {
  let t: TestApp;
  let catalogBefore: Product[];

  beforeAll(async () => {
    t = await createTestApp();
    catalogBefore = await inventory(t.api);
  });

  afterAll(async () => {
    await t.close();
  });

  const cases: Array<{ name: string; body: unknown; fields: string[]; exact?: boolean }> = [
    { name: 'missing customerId', body: { items: validItems }, fields: ['customerId'] },
    { name: 'empty items', body: { customerId: 'c-1', items: [] }, fields: ['items'] },
    {
      name: '101 items',
      body: {
        customerId: 'c-1',
        items: Array.from({ length: 101 }, (_, i) => ({ productId: `p-${i}`, quantity: 1 })),
      },
      fields: ['items'],
    },
    {
      name: 'quantity 0',
      body: { customerId: 'c-1', items: [{ productId: 'product-1', quantity: 0 }] },
      fields: ['items.0.quantity'],
    },
    {
      name: 'quantity 1001',
      body: { customerId: 'c-1', items: [{ productId: 'product-1', quantity: 1001 }] },
      fields: ['items.0.quantity'],
    },
    {
      name: 'quantity 1.5',
      body: { customerId: 'c-1', items: [{ productId: 'product-1', quantity: 1.5 }] },
      fields: ['items.0.quantity'],
    },
    {
      name: 'quantity "2" (a string)',
      body: { customerId: 'c-1', items: [{ productId: 'product-1', quantity: '2' }] },
      fields: ['items.0.quantity'],
    },
    {
      name: 'an unknown top-level field',
      body: { customerId: 'c-1', items: validItems, discount: '10.00' },
      fields: ['discount'],
    },
    {
      name: 'an unknown field inside an item',
      body: { customerId: 'c-1', items: [{ productId: 'product-1', quantity: 1, colour: 'red' }] },
      fields: ['items.0.colour'],
    },
    {
      name: 'an invalid customerEmail',
      body: { customerId: 'c-1', customerEmail: 'not-an-email', items: validItems },
      fields: ['customerEmail'],
    },
    {
      name: 'the same productId twice',
      body: {
        customerId: 'c-1',
        items: [
          { productId: 'product-1', quantity: 1 },
          { productId: 'product-1', quantity: 2 },
        ],
      },
      fields: ['items'],
    },
    // An array is not the object the endpoint expects: at least the required fields are missing.
  ];

  it.each(cases)('answers 400 problem+json naming the field for $name', async (c) => {
    const response = await t.api.post('/orders').send(c.body as object);
    const problem = expectProblem(response, 400);
    expect(problem.errors).toBeInstanceOf(Array);
    const errors = problem.errors ?? [];
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(typeof error.field).toBe('string');
      expect(typeof error.message).toBe('string');
      // Each message is about its own property ("quantity must ...").
      expect(error.message).toContain(error.field.split('.').pop());
    }
    const fields = [...new Set(errors.map((e) => e.field))].sort();
    if (c.exact === false) expect(fields).toEqual(expect.arrayContaining(c.fields));
    else expect(fields).toEqual([...c.fields].sort());
    for (const field of c.fields) expect(problem.detail).toContain(field);
    expect(response.headers.location).toBeUndefined();
  });

  it.each([[[1]], ['just a string'], [42]])(
    'answers 400 problem+json when the JSON body is not an object (%j)',
    async (body) => {
      const response = await t.api
        .post('/orders')
        .set('content-type', 'application/json')
        .send(JSON.stringify(body));
      const problem = expectProblem(response, 400);
      expect(problem.detail).toMatch(/must be a JSON object|not valid JSON/);
    },
  );

  it('answers 400 problem+json for malformed JSON, saying it is not valid JSON', async () => {
    const response = await t.api
      .post('/orders')
      .set('Content-Type', 'application/json')
      .send('{"customerId": "c-1", "items": [');
    const problem = expectProblem(response, 400);
    expect(problem.detail).toMatch(/JSON/);
  });

  it('answers 415 problem+json to a text/plain body', async () => {
    const response = await t.api
      .post('/orders')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify({ customerId: 'c-1', items: validItems }));
    expectProblem(response, 415);
  });

  it('answers 413 problem+json to a body over 100kb', async () => {
    const body = { customerId: 'c-1', items: validItems, padding: 'x'.repeat(101 * 1024) };
    const response = await t.api.post('/orders').send(body);
    const problem = expectProblem(response, 413);
    expect(problem.detail).toMatch(/too large/i);
  });

  it('stored no order and left the inventory unchanged', async () => {
    const page = await listOrders(t.api);
    expect(page).toEqual({ items: [], nextCursor: null });
    expect(await inventory(t.api)).toEqual(catalogBefore);
    expect(catalogBefore).toHaveLength(3);
  });
});

describe('unknown resources', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['GET', `/orders/${UNKNOWN_ID}`],
    ['GET', `/orders/${UNKNOWN_ID}/events`],
    ['POST', `/orders/${UNKNOWN_ID}/cancel`],
    ['GET', '/inventory/unknown-product'],
    ['GET', '/no-such-route'],
  ])('%s %s answers 404 problem+json', async (method, path) => {
    const agent = t.api;
    const response = await (method === 'GET' ? agent.get(path) : agent.post(path));
    const problem = expectProblem(response, 404);
    expect(problem.title).toBe('Not Found');
    expect(problem.instance).toBe(path);
  });

  it('names the unknown order and product in the 404 detail', async () => {
    const order = expectProblem(await t.api.get(`/orders/${UNKNOWN_ID}`), 404);
    expect(order.code).toBe('ORDER_NOT_FOUND');
    expect(order.detail).toContain(UNKNOWN_ID);
    const product = expectProblem(await t.api.get('/inventory/unknown-product'), 404);
    expect(product.code).toBe('PRODUCT_NOT_FOUND');
    expect(product.detail).toContain('unknown-product');
  });
});

describe('query parameters and bodies an operation does not document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  // One rule everywhere: refused with 400 naming the parameter, whether or not the operation
  // takes parameters of its own.
  it.each([
    '/inventory?limit=5',
    '/inventory/product-1?fields=name',
    '/admin/overview?verbose=1',
    '/health?full=true',
    `/orders/${UNKNOWN_ID}?expand=items`,
    '/orders?sort=asc',
    '/admin/dead-letters?page=2',
    '/payments?orderId=x&verbose=1',
  ])('GET %s answers 400 naming it', async (path) => {
    const name = [...new URL(path, 'http://x').searchParams.keys()].at(-1)!;
    const problem = expectProblem(await t.api.get(path), 400);
    expect(problem.errors?.map((error) => error.field)).toContain(name);
  });

  it.each([
    ['/admin/dead-letters/no-such-letter/replay', { force: true }],
    ['/admin/customers/round-c/erasure', {}],
  ])(
    'POST %s with a body (it takes none) answers 400, and without one goes on',
    async (path, body) => {
      const problem = expectProblem(await t.api.post(path).send(body), 400);
      expect(problem.detail).toBe('this operation takes no request body');
      expect((await t.api.post(path)).status).not.toBe(400);
    },
  );

  it('still answers the same operations without them (the control)', async () => {
    for (const path of ['/inventory', '/inventory/product-1', '/admin/overview', '/health']) {
      expect({ path, status: (await t.api.get(path)).status }).toEqual({ path, status: 200 });
    }
  });
});

describe('placing an order, payments and notifications', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 202 with a Location to the PENDING order, then prices it with two decimals', async () => {
    const response = await t.api
      .post('/orders')
      .send({
        customerId: 'customer-7',
        customerEmail: 'ada@example.com',
        items: [
          { productId: 'product-1', quantity: 2 },
          { productId: 'product-2', quantity: 1 },
        ],
      })
      .expect(202);
    expect(response.headers['content-type']).toMatch(/^application\/json\b/);
    const placed = response.body as OrderView;
    expect(placed.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.location).toBe(`/orders/${placed.id}`);
    expect(placed).toMatchObject({
      customerId: 'customer-7',
      customerEmail: 'ada@example.com',
      status: 'PENDING',
      currency: 'USD',
      totalAmount: null,
      failureReason: null,
    });
    expect(placed.items).toEqual([
      { productId: 'product-1', quantity: 2, unitPrice: null },
      { productId: 'product-2', quantity: 1, unitPrice: null },
    ]);

    const fetched = await t.api.get(response.headers.location as string).expect(200);
    expect((fetched.body as OrderView).id).toBe(placed.id);
    expect((fetched.body as OrderView).customerId).toBe('customer-7');

    const order = (await settled(t.api, placed.id)) as unknown as OrderView;
    expect(order.status).toBe('COMPLETED');
    expect(order.items).toEqual([
      { productId: 'product-1', quantity: 2, unitPrice: '50.00' },
      { productId: 'product-2', quantity: 1, unitPrice: '75.00' },
    ]);
    expect(order.totalAmount).toBe('175.00');
    expect(order.currency).toBe('USD');
    expect(order.createdAt).toBe(placed.createdAt);
  });

  it('shows one COMPLETED payment and one SENT confirmation for a settled order, and only its own', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-3', quantity: 3 }], 'customer-8');
    const other = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }], 'customer-9');
    const order = await settled(t.api, id);
    await settled(t.api, other);
    expect(order.status).toBe('COMPLETED');
    expect(order.totalAmount).toBe('60.00');

    const payments = (await t.api.get('/payments').query({ orderId: id }).expect(200))
      .body as Payment[];
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({
      orderId: id,
      status: 'COMPLETED',
      amount: order.totalAmount,
      currency: 'USD',
    });

    const notifications = (await t.api.get('/notifications').query({ orderId: id }).expect(200))
      .body as Notification[];
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      orderId: id,
      kind: 'CONFIRMATION',
      status: 'SENT',
      recipient: 'ada@example.com',
    });

    // Without the filter both orders show up.
    const allPayments = (await t.api.get('/payments').expect(200)).body as Payment[];
    expect(allPayments.map((p) => p.orderId)).toEqual(expect.arrayContaining([id, other]));
  });

  it('answers 409 problem+json to cancelling a completed order, and leaves it completed', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-2', quantity: 1 }]);
    expect((await settled(t.api, id)).status).toBe('COMPLETED');
    const response = await t.api.post(`/orders/${id}/cancel`).send({ reason: 'too late' });
    const problem = expectProblem(response, 409);
    expect(problem.code).toBe('ORDER_NOT_CANCELLABLE');
    expect(problem.detail).toContain(id);
    const order = (await t.api.get(`/orders/${id}`).expect(200)).body as OrderView;
    expect(order.status).toBe('COMPLETED');
    expect(order.failureReason).toBeNull();
  });
});

describe('GET /orders pagination and filters', () => {
  let t: TestApp;
  const byCustomer: Record<string, string[]> = { 'customer-a': [], 'customer-b': [] };
  let failedId: string;
  let all: string[];

  beforeAll(async () => {
    t = await createTestApp();
    const plan: Array<[string, string]> = [
      ['customer-a', 'product-1'],
      ['customer-b', 'product-2'],
      ['customer-a', 'product-3'],
      ['customer-a', 'product-1'],
      ['customer-b', 'no-such-product'],
      ['customer-b', 'product-3'],
      ['customer-a', 'product-2'],
    ];
    all = [];
    for (const [customer, productId] of plan) {
      const id = await placeOrder(t.api, [{ productId, quantity: 1 }], customer);
      byCustomer[customer].push(id);
      all.push(id);
      if (productId === 'no-such-product') failedId = id;
    }
    for (const id of all) await settled(t.api, id);
  });

  afterAll(async () => {
    await t.close();
  });

  it('pages newest first with limit=3, following nextCursor to the end without gaps or duplicates', async () => {
    const pages = await allPages(t.api, { limit: 3 });
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(pages.slice(0, -1).every((p) => typeof p.nextCursor === 'string')).toBe(true);
    expect(pages[pages.length - 1].nextCursor).toBeNull();
    const seen = pages.flatMap((p) => p.items);
    const ids = seen.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...all].sort());
    expect(isNewestFirst(seen)).toBe(true);
    // The pages, joined, are exactly the one-page listing.
    const single = await listOrders(t.api, { limit: 100 });
    expect(single.nextCursor).toBeNull();
    expect(single.items.map((o) => o.id)).toEqual(ids);
  });

  it('filters by customerId, also across pages', async () => {
    for (const [customer, expected] of Object.entries(byCustomer)) {
      const pages = await allPages(t.api, { customerId: customer, limit: 2 });
      const orders = pages.flatMap((p) => p.items);
      expect(orders.every((o) => o.customerId === customer)).toBe(true);
      expect(orders.map((o) => o.id).sort()).toEqual([...expected].sort());
      expect(isNewestFirst(orders)).toBe(true);
    }
    expect(await listOrders(t.api, { customerId: 'nobody' })).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it('filters by status', async () => {
    const failed = await listOrders(t.api, { status: 'FAILED' });
    expect(failed.items.map((o) => o.id)).toEqual([failedId]);
    expect(failed.items[0].failureReason).toContain('no-such-product');
    const completed = await listOrders(t.api, { status: 'COMPLETED' });
    expect(completed.items).toHaveLength(all.length - 1);
    expect(completed.items.every((o) => o.status === 'COMPLETED')).toBe(true);
    expect(completed.items.map((o) => o.id)).not.toContain(failedId);
    expect((await listOrders(t.api, { status: 'PENDING' })).items).toEqual([]);
  });

  it.each([
    ['limit=0', { limit: 0 }, 'limit'],
    ['limit=101', { limit: 101 }, 'limit'],
    ['status=BOGUS', { status: 'BOGUS' }, 'status'],
  ])('answers 400 problem+json to %s', async (_name, query, field) => {
    const problem = expectProblem(await t.api.get('/orders').query(query), 400);
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
  });

  it('answers 400 problem+json to a cursor it did not hand out', async () => {
    for (const cursor of ['garbage', Buffer.from('[1,2]').toString('base64url')]) {
      const response = await t.api.get('/orders').query({ cursor });
      const problem = expectProblem(response, 400);
      expect(problem.code).toBe('ORDER_INVALID_CURSOR');
    }
  });
});

describe('inventory', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('lists the seeded catalog', async () => {
    expect(await inventory(t.api)).toEqual([
      {
        productId: 'product-1',
        name: 'Widget',
        unitPrice: '50.00',
        available: 100,
        reserved: 0,
        sold: 0,
      },
      {
        productId: 'product-2',
        name: 'Gadget',
        unitPrice: '75.00',
        available: 50,
        reserved: 0,
        sold: 0,
      },
      {
        productId: 'product-3',
        name: 'Gizmo',
        unitPrice: '20.00',
        available: 25,
        reserved: 0,
        sold: 0,
      },
    ]);
    expect(await stockOf(t.api, 'product-2')).toMatchObject({ available: 50, reserved: 0 });
  });

  it('creates a product with PUT, then updates its price and stock', async () => {
    const created = await t.api
      .put('/inventory/new-product')
      .send({ name: 'Sprocket', unitPrice: '12.50', available: 7 })
      .expect(200);
    const expected = {
      productId: 'new-product',
      name: 'Sprocket',
      unitPrice: '12.50',
      available: 7,
      reserved: 0,
      sold: 0,
    };
    expect(created.body).toEqual(expected);
    expect((await t.api.get('/inventory/new-product').expect(200)).body).toEqual(expected);
    expect(await inventory(t.api)).toContainEqual(expected);

    const updated = await t.api
      .put('/inventory/new-product')
      .send({ name: 'Sprocket XL', unitPrice: '9.90', available: 3 })
      .expect(200);
    const after = { ...expected, name: 'Sprocket XL', unitPrice: '9.90', available: 3 };
    expect(updated.body).toEqual(after);
    expect((await t.api.get('/inventory/new-product').expect(200)).body).toEqual(after);
    expect((await inventory(t.api)).filter((p) => p.productId === 'new-product')).toEqual([after]);
  });

  it('prices an order from the catalog as PUT left it', async () => {
    const id = await placeOrder(t.api, [{ productId: 'new-product', quantity: 2 }]);
    const order = await settled(t.api, id);
    expect(order.status).toBe('COMPLETED');
    expect(order.items[0].unitPrice).toBe('9.90');
    expect(order.totalAmount).toBe('19.80');
    await eventually(
      () => stockOf(t.api, 'new-product'),
      (s) => s.sold === 2 && s.available === 1 && s.reserved === 0,
      { what: 'new-product stock to be sold' },
    );
  });

  it.each([
    [
      'unitPrice "12.345"',
      'new-product',
      { name: 'X', unitPrice: '12.345', available: 1 },
      'unitPrice',
    ],
    [
      'unitPrice 12.5 as a number',
      'new-product',
      { name: 'X', unitPrice: 12.5, available: 1 },
      'unitPrice',
    ],
    ['available -1', 'new-product', { name: 'X', unitPrice: '1.00', available: -1 }, 'available'],
    ['a missing name', 'new-product', { unitPrice: '1.00', available: 1 }, 'name'],
    ['a missing name (new product)', 'other-product', { unitPrice: '1.00', available: 1 }, 'name'],
    [
      'productId "bad id!"',
      encodeURIComponent('bad id!'),
      { name: 'X', unitPrice: '1.00', available: 1 },
      'productId',
    ],
  ])('answers 400 to a PUT with %s and changes nothing', async (_name, productId, body, field) => {
    const before = await inventory(t.api);
    const response = await t.api.put(`/inventory/${productId}`).send(body);
    const problem = expectProblem(response, 400);
    expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect(await inventory(t.api)).toEqual(before);
  });

  it('still does not know the products whose PUT was refused', async () => {
    expectProblem(await t.api.get('/inventory/other-product'), 404);
    expect((await inventory(t.api)).map((p) => p.productId)).toEqual([
      'new-product',
      'product-1',
      'product-2',
      'product-3',
    ]);
  });
});

describe('API documentation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('serves the Swagger UI at /docs', async () => {
    const response = await t.api.get('/docs').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html\b/);
    expect(response.text).toMatch(/<html/i);
    expect(response.text).toContain('swagger-ui');
  });

  it('serves an OpenAPI document with every path at /docs-json', async () => {
    const response = await t.api.get('/docs-json').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json\b/);
    const document = response.body as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/orders',
        '/orders/{id}',
        '/orders/{id}/events',
        '/orders/{id}/cancel',
        '/inventory',
        '/inventory/{productId}',
        '/payments',
        '/notifications',
      ]),
    );
    expect(Object.keys(document.paths['/orders'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(document.paths['/inventory/{productId}'])).toEqual(
      expect.arrayContaining(['get', 'put']),
    );
  });
});

describe('X-Correlation-Id', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('is echoed, and carried by every event of the order the request created', async () => {
    const response = await t.api
      .post('/orders')
      .set('X-Correlation-Id', 'test-corr-123')
      .send({ customerId: 'customer-c', items: [{ productId: 'product-1', quantity: 1 }] })
      .expect(202);
    expect(response.headers['x-correlation-id']).toBe('test-corr-123');
    const id = (response.body as OrderView).id;

    // Another order, placed without the header, must not share the correlation.
    const other = await t.api
      .post('/orders')
      .send({ customerId: 'customer-d', items: [{ productId: 'product-1', quantity: 1 }] })
      .expect(202);
    const generated = other.headers['x-correlation-id'] as string;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    expect((await settled(t.api, id)).status).toBe('COMPLETED');
    await settled(t.api, (other.body as OrderView).id);

    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as OrderEvent[];
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('OrderCreated');
    expect(types).toEqual(
      expect.arrayContaining(['OrderValidated', 'OrderCompleted', 'OrderConfirmationSent']),
    );
    expect(events.length).toBeGreaterThanOrEqual(5);
    for (const event of events) expect(event.correlationId).toBe('test-corr-123');

    const otherEvents = (
      await t.api.get(`/orders/${(other.body as OrderView).id}/events`).expect(200)
    ).body as OrderEvent[];
    expect(otherEvents.length).toBeGreaterThan(0);
    for (const event of otherEvents) expect(event.correlationId).toBe(generated);
  });

  it('is echoed on any request', async () => {
    const response = await t.api
      .get('/inventory')
      .set('X-Correlation-Id', 'test-corr-123')
      .expect(200);
    expect(response.headers['x-correlation-id']).toBe('test-corr-123');
  });
});

describe('GET /health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers 200 with the state of the database and the broker, and who delivers events', async () => {
    const response = await t.api.get('/health').expect(200);
    const broker = process.env.TEST_AMQP_URL ? 'ok' : 'not used';
    // Alone on its database, an instance without a broker delivers the events itself.
    const events = process.env.TEST_AMQP_URL ? 'through the broker' : 'delivering';
    expect(response.body).toEqual({ status: 'ok', database: 'ok', broker, events });
  });
});
