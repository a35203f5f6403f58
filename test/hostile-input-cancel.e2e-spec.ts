import { eventually, removeTempDatabases, settled } from './create-test-app.js';
import type { OrderView } from './api-types.js';
import {
  eventTypes,
  expectRawProblem,
  getJson,
  JSON_TYPE,
  order,
  post,
} from './support/hostile-requests.js';
import { describeResponse, startRawApi, type RawApi, type RawRequest } from './support/raw-http.js';

/**
 * Hostile bodies for POST /orders/{id}/cancel: each gets a 4xx application/problem+json and
 * leaves the order as it is. Requests go out as raw bytes (test/support/raw-http.ts).
 */

afterAll(() => removeTempDatabases());

describe('POST /orders/{id}/cancel refuses hostile bodies and leaves the order as it is', () => {
  let api: RawApi;
  let id: string;

  beforeAll(async () => {
    // A slow gateway keeps the order cancellable (PAYMENT_PROCESSING) while the tests run.
    api = await startRawApi({ config: { paymentLatencyMs: 2000 } });
    const response = await api.send(post(order({})));
    if (response.status !== 202)
      throw new Error(`placing the order: ${describeResponse(response)}`);
    id = (JSON.parse(response.text) as OrderView).id;
    await eventually(
      () => getJson<OrderView>(api, `/orders/${id}`),
      (o) => o.status === 'PAYMENT_PROCESSING',
      { what: 'payment to start' },
    );
  });

  afterAll(async () => {
    await settled(api.t.api, id);
    await api.close();
  });

  const cancel =
    (body: string | Buffer, headers: Record<string, string> = JSON_TYPE, path?: string) =>
    (orderId: string): RawRequest => ({
      method: 'POST',
      path: path ?? `/orders/${orderId}/cancel`,
      headers,
      body,
    });

  it.each<[string, (orderId: string) => RawRequest, number, string | undefined]>([
    ['reason 5', cancel('{"reason":5}'), 400, 'reason'],
    ['reason {}', cancel('{"reason":{}}'), 400, 'reason'],
    ['reason ["x"]', cancel('{"reason":["x"]}'), 400, 'reason'],
    ['reason true', cancel('{"reason":true}'), 400, 'reason'],
    [
      'a reason of 501 characters',
      cancel(JSON.stringify({ reason: 'r'.repeat(501) })),
      400,
      'reason',
    ],
    [
      'a reason of 10,000 characters',
      cancel(JSON.stringify({ reason: 'r'.repeat(10_000) })),
      400,
      'reason',
    ],
    ['an unknown field status', cancel('{"status":"COMPLETED"}'), 400, 'status'],
    ['an unknown field refund', cancel('{"reason":"x","refund":true}'), 400, 'refund'],
    ['malformed JSON', cancel('{"reason":'), 400, undefined],
    ['single quotes', cancel("{'reason':'x'}"), 400, undefined],
    ['an array body', cancel('["x"]'), 400, undefined],
    ['a null body', cancel('null'), 400, undefined],
    ['text/plain', cancel('{"reason":"x"}', { 'content-type': 'text/plain' }), 415, undefined],
    ['no Content-Type', cancel('{"reason":"x"}', {}), 415, undefined],
    [
      'a form',
      cancel('reason=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      undefined,
    ],
    [
      'charset=latin1',
      cancel('{"reason":"x"}', { 'content-type': 'application/json; charset=latin1' }),
      415,
      undefined,
    ],
    [
      'a body over 100 kB',
      cancel(JSON.stringify({ reason: 'r'.repeat(101 * 1024) })),
      413,
      undefined,
    ],
    [
      'an id of 101 characters',
      cancel('{}', JSON_TYPE, `/orders/${'x'.repeat(101)}/cancel`),
      400,
      'id',
    ],
    ['an id that does not decode', cancel('{}', JSON_TYPE, '/orders/%ff/cancel'), 400, undefined],
  ])('answers %s with a 4xx and does not cancel', async (_name, build, status, field) => {
    const request = build(id);
    const problem = expectRawProblem(await api.send(request), status);
    if (field !== undefined) expect(problem.errors?.map((e) => e.field)).toEqual([field]);
    expect((await getJson<OrderView>(api, `/orders/${id}`)).status).not.toBe('CANCELLED');
    expect(await eventTypes(api, id)).not.toContain('OrderCancelled');
  });

  it('was still cancellable: the refusals were about the requests, and a valid cancel works', async () => {
    expect((await getJson<OrderView>(api, `/orders/${id}`)).status).toBe('PAYMENT_PROCESSING');
    const response = await api.send(cancel('{"reason":"changed my mind"}')(id));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ id, status: 'CANCELLED' });
  });
});
