import type {
  CatalogChangeView as CatalogChange,
  CatalogFields,
} from '../src/inventory/domain/catalog.js';
import type { Product } from './api-types.js';
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
  ADMIN_SUB,
} from './create-test-app.js';

/** Catalog writes: ETags and If-Match on PUT, stock adjustments by a delta, and their audit. */

const byValue = (a: number, b: number) => a - b;

const STRONG_TAG = /^"[^"]+"$/;

function put(api: Api, productId: string, body: CatalogFields, ifMatch?: string) {
  const req = api.put(`/inventory/${productId}`).send(body);
  return ifMatch === undefined ? req : req.set('If-Match', ifMatch);
}

function adjust(api: Api, productId: string, delta: number, reason = 'restock') {
  return api.post(`/inventory/${productId}/adjustments`).send({ delta, reason });
}

async function etagOf(api: Api, productId: string): Promise<string> {
  const response = await api.get(`/inventory/${productId}`).expect(200);
  const etag = response.headers.etag as string;
  expect(etag).toMatch(STRONG_TAG);
  return etag;
}

async function auditOf(api: Api, productId: string): Promise<CatalogChange[]> {
  return (await api.get(`/inventory/${productId}/audit`).expect(200)).body as CatalogChange[];
}

async function productOf(api: Api, productId: string): Promise<Product> {
  return (await api.get(`/inventory/${productId}`).expect(200)).body as Product;
}

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
  await removeTempDatabases();
});

describe('ETag and If-Match', () => {
  const sprocket = { name: 'Sprocket', unitPrice: '12.50', available: 10 };

  it('gives a product a strong ETag that every change, a reservation included, replaces', async () => {
    const created = await put(t.api, 'etag-1', sprocket).expect(200);
    expect(created.headers.etag).toMatch(STRONG_TAG);
    expect(await etagOf(t.api, 'etag-1')).toBe(created.headers.etag);

    const id = await placeOrder(t.api, [{ productId: 'etag-1', quantity: 1 }]);
    await settled(t.api, id);
    const afterOrder = await etagOf(t.api, 'etag-1');
    expect(afterOrder).not.toBe(created.headers.etag);

    const adjusted = await adjust(t.api, 'etag-1', 1).expect(200);
    expect(adjusted.body).toMatchObject({ available: 10, sold: 1 });
    expect(await etagOf(t.api, 'etag-1')).not.toBe(afterOrder);
  });

  it('answers 304 to a GET whose If-None-Match names the current ETag', async () => {
    const etag = await etagOf(t.api, 'etag-1');
    await t.api.get('/inventory/etag-1').set('If-None-Match', etag).expect(304);
  });

  it('sends no ETag where it would not be a validator, so If-None-Match never answers 304 there', async () => {
    const placed = await t.api
      .post('/orders')
      .send({ customerId: 'etag-c', items: [{ productId: 'product-2', quantity: 1 }] });
    expect(placed.headers.etag).toBeUndefined();
    const id = (placed.body as { id: string }).id;
    await settled(t.api, id);
    for (const path of [
      `/orders/${id}`,
      `/orders/${id}/events`,
      '/orders',
      '/inventory',
      '/payments',
      '/admin/dead-letters',
      '/inventory/no-such-product',
    ]) {
      const first = await t.api.get(path);
      expect({ path, etag: first.headers.etag }).toEqual({ path, etag: undefined });
      const again = await t.api.get(path).set('If-None-Match', '*');
      expect({ path, status: again.status }).toEqual({ path, status: first.status });
    }
  });

  it('applies a PUT whose If-Match names the current ETag, and answers with the new one', async () => {
    const etag = await etagOf(t.api, 'etag-1');
    const response = await put(t.api, 'etag-1', { ...sprocket, available: 40 }, etag).expect(200);
    expect(response.body).toMatchObject({ available: 40, sold: 1 });
    expect(response.headers.etag).toMatch(STRONG_TAG);
    expect(response.headers.etag).not.toBe(etag);
    expect(await etagOf(t.api, 'etag-1')).toBe(response.headers.etag);
  });

  it.each([
    ['a stale tag', (current: string) => `"${Number(current.slice(1, -1)) - 1}"`],
    ['the current tag made weak', (current: string) => `W/${current}`],
    ['a tag this service never gave out', () => '"not-a-version"'],
  ])('answers 412 to a PUT whose If-Match is %s and changes nothing', async (_name, tagFrom) => {
    const etag = await etagOf(t.api, 'etag-1');
    const before = await productOf(t.api, 'etag-1');
    const changes = (await auditOf(t.api, 'etag-1')).length;
    const response = await put(t.api, 'etag-1', { ...sprocket, name: 'Changed' }, tagFrom(etag));
    expect(expectProblem(response, 412).code).toBe('PRODUCT_PRECONDITION_FAILED');
    expect(await productOf(t.api, 'etag-1')).toEqual(before);
    expect(await etagOf(t.api, 'etag-1')).toBe(etag);
    expect(await auditOf(t.api, 'etag-1')).toHaveLength(changes);
  });

  it('applies a PUT whose If-Match lists the current tag among others, or is *', async () => {
    const etag = await etagOf(t.api, 'etag-1');
    await put(t.api, 'etag-1', { ...sprocket, name: 'Listed' }, `"1", ${etag}`).expect(200);
    const starred = await put(t.api, 'etag-1', { ...sprocket, name: 'Starred' }, '*').expect(200);
    expect(starred.body).toMatchObject({ name: 'Starred' });
  });

  it('answers 412 to a conditional PUT of a product that does not exist, and creates nothing', async () => {
    for (const ifMatch of ['*', '"1"']) {
      const response = await put(t.api, 'etag-missing', sprocket, ifMatch);
      expect(expectProblem(response, 412).code).toBe('PRODUCT_PRECONDITION_FAILED');
    }
    expectProblem(await t.api.get('/inventory/etag-missing'), 404);
  });

  it('keeps a PUT without If-Match unconditional', async () => {
    await put(t.api, 'etag-1', { ...sprocket, name: 'Plain' }).expect(200);
    expect(await productOf(t.api, 'etag-1')).toMatchObject({ name: 'Plain' });
  });

  it('lets exactly one of concurrent PUTs holding the same ETag through', async () => {
    await put(t.api, 'etag-race', sprocket).expect(200);
    const etag = await etagOf(t.api, 'etag-race');
    const names = Array.from({ length: 30 }, (_, i) => `Racer ${i}`);
    const responses = await Promise.all(
      names.map((name) => put(t.api, 'etag-race', { ...sprocket, name }, etag)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(names.length - 1);
    for (const r of responses.filter((r) => r.status === 412)) expectProblem(r, 412);
    const winner = responses.find((r) => r.status === 200)!;
    const winnerName = (winner.body as Product).name;
    expect(await productOf(t.api, 'etag-race')).toMatchObject({ name: winnerName });
    expect(await etagOf(t.api, 'etag-race')).toBe(winner.headers.etag);
    const [latest, ...older] = await auditOf(t.api, 'etag-race');
    expect(older).toHaveLength(1);
    expect(latest).toMatchObject({ kind: 'put', before: { name: 'Sprocket' } });
    expect(latest.after.name).toBe(winnerName);
  });
});

describe('stock adjustments', () => {
  const bolt = { name: 'Bolt', unitPrice: '1.00', available: 5 };

  it('adds and takes stock by a delta', async () => {
    await put(t.api, 'adjust-1', bolt).expect(200);
    const added = await adjust(t.api, 'adjust-1', 25).expect(200);
    expect(added.body).toEqual({
      productId: 'adjust-1',
      ...bolt,
      available: 30,
      reserved: 0,
      sold: 0,
    });
    await adjust(t.api, 'adjust-1', -30, 'stocktake').expect(200);
    expect(await stockOf(t.api, 'adjust-1')).toMatchObject({ available: 0 });
  });

  it('answers 409 to an adjustment that would take available stock below zero, changing nothing', async () => {
    await adjust(t.api, 'adjust-1', 3).expect(200);
    const etag = await etagOf(t.api, 'adjust-1');
    const changes = (await auditOf(t.api, 'adjust-1')).length;
    const problem = expectProblem(await adjust(t.api, 'adjust-1', -4, 'breakage'), 409);
    expect(problem).toMatchObject({ code: 'PRODUCT_STOCK_TOO_LOW', available: 3 });
    expect(await stockOf(t.api, 'adjust-1')).toMatchObject({ available: 3 });
    expect(await etagOf(t.api, 'adjust-1')).toBe(etag);
    expect(await auditOf(t.api, 'adjust-1')).toHaveLength(changes);
  });

  it('answers 404 for an unknown product', async () => {
    const problem = expectProblem(await adjust(t.api, 'adjust-missing', 1), 404);
    expect(problem.code).toBe('PRODUCT_NOT_FOUND');
    expectProblem(await t.api.get('/inventory/adjust-missing'), 404);
  });

  it.each([
    ['a zero delta', { delta: 0, reason: 'x' }, 'delta'],
    ['a fractional delta', { delta: 1.5, reason: 'x' }, 'delta'],
    ['a delta as a string', { delta: '5', reason: 'x' }, 'delta'],
    ['no reason', { delta: 5 }, 'reason'],
    ['an empty reason', { delta: 5, reason: '' }, 'reason'],
  ])('answers 400 to an adjustment with %s', async (_name, body, field) => {
    const before = await stockOf(t.api, 'adjust-1');
    const response = await t.api.post('/inventory/adjust-1/adjustments').send(body);
    expect(expectProblem(response, 400).errors?.map((e) => e.field)).toEqual([field]);
    expect(await stockOf(t.api, 'adjust-1')).toEqual(before);
  });

  it('keeps every unit when adjustments run among concurrent reservations', async () => {
    const initial = 40;
    await put(t.api, 'adjust-race', { ...bolt, available: initial }).expect(200);
    const deltas = [10, -5, 7, -12, 3, -20, 15, -8, 4, -30];
    const [orders, adjustments] = await Promise.all([
      Promise.all(
        Array.from({ length: 20 }, () =>
          placeOrder(t.api, [{ productId: 'adjust-race', quantity: 3 }]),
        ),
      ),
      Promise.all(deltas.map((delta) => adjust(t.api, 'adjust-race', delta, 'shuffle'))),
    ]);
    for (const r of adjustments) {
      if (r.status !== 200) expect(expectProblem(r, 409).code).toBe('PRODUCT_STOCK_TOO_LOW');
    }
    const applied = deltas.filter((_, i) => adjustments[i].status === 200);
    const settledOrders = await Promise.all(orders.map((id) => settled(t.api, id)));
    const completed = settledOrders.filter((o) => o.status === 'COMPLETED').length;
    expect(completed).toBeGreaterThan(0);
    for (const o of settledOrders.filter((o) => o.status !== 'COMPLETED')) {
      expect(o.failureReason).toMatch(/Insufficient stock/);
    }

    const stock = await eventually(
      () => stockOf(t.api, 'adjust-race'),
      (s) => s.reserved === 0,
      { what: 'every reservation to be sold' },
    );
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(stock.sold).toBe(3 * completed);
    expect(stock.available + stock.reserved + stock.sold).toBe(initial + sum(applied));

    const audited = (await auditOf(t.api, 'adjust-race')).filter((c) => c.kind === 'adjust');
    expect(audited.map((c) => c.delta!).sort(byValue)).toEqual([...applied].sort(byValue));
    // Each audited adjustment moved available by exactly its delta, whatever ran in between.
    for (const c of audited) expect(c.after.available - c.before!.available).toBe(c.delta);
  });
});

describe('audit', () => {
  const nut = { name: 'Nut', unitPrice: '0.50', available: 100 };

  it('records every catalog change with its actor, newest first', async () => {
    await put(await t.as('admin-ada', 'admin'), 'audit-1', nut).expect(200);
    await put(t.api, 'audit-1', { ...nut, unitPrice: '0.75' }).expect(200);
    await adjust(await t.as('admin-bob', 'admin'), 'audit-1', -10, 'damaged in transit').expect(
      200,
    );

    const changes = await auditOf(t.api, 'audit-1');
    expect(changes).toEqual([
      expect.objectContaining({
        productId: 'audit-1',
        kind: 'adjust',
        actor: 'admin-bob',
        before: { ...nut, unitPrice: '0.75' },
        after: { ...nut, unitPrice: '0.75', available: 90 },
        delta: -10,
        reason: 'damaged in transit',
      }),
      expect.objectContaining({
        kind: 'put',
        actor: ADMIN_SUB,
        before: nut,
        after: { ...nut, unitPrice: '0.75' },
        delta: null,
        reason: null,
      }),
      expect.objectContaining({ kind: 'put', actor: 'admin-ada', before: null, after: nut }),
    ]);
    expect(new Set(changes.map((c) => c.id)).size).toBe(3);
    const times = changes.map((c) => Date.parse(c.changedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(changes[0].version).toBeGreaterThan(changes[1].version);
    expect(changes[1].version).toBeGreaterThan(changes[2].version);
    expect(await etagOf(t.api, 'audit-1')).toBe(`"${changes[0].version}"`);
  });

  it('records no change for a refused write', async () => {
    const before = await auditOf(t.api, 'audit-1');
    expectProblem(await put(t.api, 'audit-1', { ...nut, available: -1 }), 400);
    expectProblem(await adjust(t.api, 'audit-1', -1000), 409);
    expect(await auditOf(t.api, 'audit-1')).toEqual(before);
  });

  it('lists nothing for a product only the seed and orders changed', async () => {
    expect(await auditOf(t.api, 'product-3')).toEqual([]);
  });

  it('answers 404 for an unknown product', async () => {
    const response = await t.api.get('/inventory/audit-missing/audit');
    expect(expectProblem(response, 404).code).toBe('PRODUCT_NOT_FOUND');
  });

  it('documents the new endpoints and their answers', async () => {
    const document = (await t.api.get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ name: string }>; responses: object }>
      >;
    };
    const putOperation = document.paths['/inventory/{productId}'].put;
    expect(putOperation.parameters?.map((p) => p.name)).toContain('If-Match');
    expect(Object.keys(putOperation.responses)).toEqual(expect.arrayContaining(['200', '412']));
    expect(
      Object.keys(document.paths['/inventory/{productId}/adjustments'].post.responses),
    ).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
    expect(Object.keys(document.paths['/inventory/{productId}/audit'].get.responses)).toEqual(
      expect.arrayContaining(['200', '404']),
    );
  });
});
