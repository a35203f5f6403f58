import type { Problem, OrderView, OrderPage, Product } from '../api-types.js';
import { expectProblem } from '../create-test-app.js';
import {
  describeResponse,
  startRawApi,
  type RawApi,
  type RawRequest,
  type RawResponse,
} from './raw-http.js';

/**
 * What the hostile-input suites send and check, through the raw client (./raw-http.ts): the
 * problem+json assertions, reads of orders and stock, and builders of requests around one valid
 * order.
 */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

// --- assertions and reads --------------------------------------------------------------------

/**
 * Asserts an RFC 9457 answer: a 4xx (the given one, if any), application/problem+json, and a JSON
 * body whose numeric `status` is the HTTP status. Returns the body.
 */
export function expectRawProblem(response: RawResponse, status?: number): Problem {
  const ok =
    status === undefined
      ? response.status >= 400 && response.status < 500
      : response.status === status;
  if (!ok) throw new Error(`expected ${status ?? 'a 4xx'}, got ${describeResponse(response)}`);
  return expectProblem(response, response.status);
}

export async function getJson<T>(api: RawApi, path: string): Promise<T> {
  const response = await api.send({ path });
  if (response.status !== 200) throw new Error(`GET ${path}: ${describeResponse(response)}`);
  return JSON.parse(response.text) as T;
}

/** Every stored order, following nextCursor from the first page of 100 to the last. */
export async function allOrders(api: RawApi): Promise<OrderView[]> {
  const orders: OrderView[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages === 0 || cursor !== null; pages++) {
    if (pages > 1000) throw new Error('pagination does not end');
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await getJson<OrderPage>(api, `/orders?limit=100${query}`);
    orders.push(...page.items);
    cursor = page.nextCursor;
  }
  return orders;
}

export const inventory = (api: RawApi): Promise<Product[]> => getJson<Product[]>(api, '/inventory');

export async function eventTypes(api: RawApi, id: string): Promise<string[]> {
  const events = await getJson<Array<{ type: string }>>(api, `/orders/${id}/events`);
  return events.map((event) => event.type);
}

/** Sends a request that must be refused and must change nothing (orders and stock). */
export async function expectRefusedWithoutChange(
  api: RawApi,
  request: RawRequest,
): Promise<Problem> {
  const [ordersBefore, stockBefore] = [await allOrders(api), await inventory(api)];
  const problem = expectRawProblem(await api.send(request));
  expect((await allOrders(api)).length).toBe(ordersBefore.length);
  expect(await inventory(api)).toEqual(stockBefore);
  return problem;
}

/**
 * The application of suites that send only requests it must refuse: each answer is checked, then
 * that no order exists and the stock is as seeded.
 */
export class RefusalProbe {
  api: RawApi;
  seeded: Product[];

  async start(): Promise<void> {
    this.api = await startRawApi();
    this.seeded = await inventory(this.api);
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /** Sends, asserts the problem answer, then that no order exists and the stock is as seeded. */
  refused(request: RawRequest, status: number): Promise<Problem> {
    return expectRefusedOnSeededStore(this, request, status);
  }

  /** A 400 naming exactly one field, with a message matching `message`. */
  refusedNaming(body: string, field: string, message: RegExp): Promise<void> {
    return expectRefusedNamingField(this, body, field, message);
  }
}

async function expectRefusedOnSeededStore(
  probe: RefusalProbe,
  request: RawRequest,
  status: number,
): Promise<Problem> {
  const problem = expectRawProblem(await probe.api.send(request), status);
  expect(problem.instance).toBe(request.path);
  expect(await getJson<OrderPage>(probe.api, '/orders?limit=1')).toEqual({
    items: [],
    nextCursor: null,
  });
  expect(await inventory(probe.api)).toEqual(probe.seeded);
  return problem;
}

async function expectRefusedNamingField(
  probe: RefusalProbe,
  body: string,
  field: string,
  message: RegExp,
): Promise<void> {
  const problem = await expectRefusedOnSeededStore(probe, post(body), 400);
  expect(problem.type).toBe('urn:problem:validation-error');
  expect(problem.errors).toHaveLength(1);
  expect(problem.errors?.[0].field).toBe(field);
  expect(problem.errors?.[0].message).toMatch(message);
  expect(problem.detail).toContain(field);
}

// --- request builders ------------------------------------------------------------------------

export const VALID_ITEM = { productId: 'product-1', quantity: 1 };
export const VALID_ORDER = {
  customerId: 'customer-1',
  customerEmail: 'ada@example.com',
  items: [VALID_ITEM],
};
export const JSON_TYPE: Record<string, string> = { 'content-type': 'application/json' };

export function post(
  body: string | Buffer,
  headers: Record<string, string> = JSON_TYPE,
): RawRequest {
  return { method: 'POST', path: '/orders', headers, body };
}

/** The valid order with some top-level fields replaced. */
export const order = (patch: Record<string, unknown>): string =>
  JSON.stringify({ ...VALID_ORDER, ...patch });

/** The valid order with fields of its item replaced. */
export const withItem = (patch: Record<string, unknown>): string =>
  JSON.stringify({ ...VALID_ORDER, items: [{ ...VALID_ITEM, ...patch }] });

/** The valid order with one raw JSON text in a top-level field (for what JSON.stringify cannot write). */
export const rawTop = (key: string, text: string): string =>
  `{"customerId":"customer-1","items":[{"productId":"product-1","quantity":1}],"${key}":${text}}`;
export const rawCustomerId = (text: string): string =>
  `{"customerId":${text},"items":[{"productId":"product-1","quantity":1}]}`;
export const rawQuantity = (text: string): string =>
  `{"customerId":"customer-1","items":[{"productId":"product-1","quantity":${text}}]}`;
export const rawItemField = (key: string, text: string): string =>
  `{"customerId":"customer-1","items":[{"productId":"product-1","quantity":1,"${key}":${text}}]}`;

/** `depth` levels of `open` … `close` around `inner`. */
export const nested = (depth: number, open: string, close: string, inner = '1'): string =>
  open.repeat(depth) + inner + close.repeat(depth);
export const ARRAYS: [string, string] = ['[', ']'];
export const OBJECTS: [string, string] = ['{"a":', '}'];
