import { removeTempDatabases } from './create-test-app.js';
import {
  allOrders,
  ARRAYS,
  expectRawProblem,
  expectRefusedWithoutChange,
  JSON_TYPE,
  nested,
  OBJECTS,
  order,
  post,
  rawCustomerId,
  rawItemField,
  rawQuantity,
  rawTop,
  UNKNOWN_ID,
  VALID_ITEM,
} from './support/hostile-requests.js';
import { sendBytes, startRawApi, type RawApi, type RawRequest } from './support/raw-http.js';

/**
 * Hostile input that used to get through, each a defect found and fixed: headers Node's parser
 * refuses, deep nesting that overflowed the stack, invalid UTF-8 and lone surrogates, prototype
 * and built-in method names as keys, arrays in place of items, misleading type messages, and
 * +json types. Each must get a 4xx application/problem+json and change nothing.
 */

afterAll(() => removeTempDatabases());

describe('hostile input that used to get through', () => {
  let api: RawApi;

  beforeAll(async () => {
    api = await startRawApi();
  });

  afterAll(async () => {
    await api.close();
  });

  // Node's HTTP parser refuses these before any route runs, and used to answer with a bare status
  // line; they now get problem+json like every other error.
  it('request headers over 16 KiB get a 431 problem+json, and no order is placed', async () => {
    const padded = { ...JSON_TYPE, 'x-padding': 'a'.repeat(20_000) };
    const problem = await expectRefusedWithoutChange(api, post(order({}), padded));
    expect(problem).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
  });

  it.each([
    ['a Content-Length that is not a number', 'Content-Length: many\r\n'],
    ['a header line without a colon', 'this is not a header\r\n'],
    ['two different Content-Lengths', 'Content-Length: 2\r\nContent-Length: 3\r\n'],
  ])('a request with %s gets a 400 problem+json', async (_name, header) => {
    const ordersBefore = (await allOrders(api)).length;
    const response = await sendBytes(
      api.port,
      `POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${header}\r\n{}`,
    );
    expect(expectRawProblem(response, 400)).toMatchObject({ title: 'Bad Request' });
    expect(response.headers.connection).toBe('close');
    expect((await allOrders(api)).length).toBe(ordersBefore);
  });

  // class-transformer copies the body recursively before validation; a few thousand levels of
  // nesting used to overflow the stack (RangeError, 500). Bodies under 100 kB.
  it.each<[string, RawRequest]>([
    ['5,000 nested arrays as customerId', post(rawCustomerId(nested(5000, ...ARRAYS)))],
    ['50,000 nested arrays as customerId (100 kB)', post(rawCustomerId(nested(50_000, ...ARRAYS)))],
    ['5,000 nested objects as customerId', post(rawCustomerId(nested(5000, ...OBJECTS)))],
    [
      '50,000 nested arrays as items',
      post(`{"customerId":"c","items":${nested(50_000, ...ARRAYS)}}`),
    ],
    ['5,000 nested arrays as a quantity', post(rawQuantity(nested(5000, ...ARRAYS)))],
    ['5,000 nested objects in an unknown field', post(rawTop('extra', nested(5000, ...OBJECTS)))],
    [
      '5,000 nested objects in an unknown item field',
      post(rawItemField('extra', nested(5000, ...OBJECTS))),
    ],
    ['a body of 5,000 nested objects', post(nested(5000, ...OBJECTS))],
    [
      '50,000 nested arrays as the reason of a cancel',
      {
        method: 'POST',
        path: `/orders/${UNKNOWN_ID}/cancel`,
        headers: JSON_TYPE,
        body: `{"reason":${nested(50_000, ...ARRAYS)}}`,
      },
    ],
    [
      '50,000 nested arrays as the name in PUT /inventory',
      {
        method: 'PUT',
        path: '/inventory/product-1',
        headers: JSON_TYPE,
        body: `{"name":${nested(50_000, ...ARRAYS)},"unitPrice":"50.00","available":7}`,
      },
    ],
  ])('deep nesting: answers 4xx, not 500, to %s', async (_name, request) => {
    await expectRefusedWithoutChange(api, request);
  });

  // Invalid UTF-8 used to be decoded to U+FFFD and accepted (202) with a customerId the client
  // never sent; an escaped lone surrogate was accepted and stored as U+FFFD x3.
  it.each<[string, RawRequest]>([
    [
      'raw 0xff 0xfe bytes inside customerId',
      post(
        Buffer.concat([
          Buffer.from('{"customerId":"c'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('","items":[{"productId":"product-1","quantity":1}]}'),
        ]),
      ),
    ],
    ['a lone surrogate \\ud800 in customerId', post(rawCustomerId('"c\\ud800"'))],
  ])('encoding: answers 400 to %s', async (_name, request) => {
    const problem = await expectRefusedWithoutChange(api, request);
    expect(problem.status).toBe(400);
  });

  // The ValidationPipe strips these keys before whitelisting, so they used to be dropped
  // silently and the order accepted, although unknown fields must be refused.
  it.each<[string, RawRequest]>([
    ['__proto__ at the top level', post(rawTop('__proto__', '{"polluted":true}'))],
    [
      'constructor at the top level',
      post(rawTop('constructor', '{"prototype":{"polluted":true}}')),
    ],
    ['prototype at the top level', post(rawTop('prototype', '{"polluted":true}'))],
    ['__proto__ in an item', post(rawItemField('__proto__', '{"polluted":true}'))],
    [
      'constructor in an item',
      post(rawItemField('constructor', '{"prototype":{"polluted":true}}')),
    ],
    ['prototype in an item', post(rawItemField('prototype', '{"polluted":true}'))],
    // class-transformer skips keys whose name is a method of the instance (Object.prototype).
    ['toString at the top level', post(rawTop('toString', '1'))],
    ['hasOwnProperty at the top level', post(rawTop('hasOwnProperty', '1'))],
    ['valueOf in an item', post(rawItemField('valueOf', '1'))],
    [
      '__proto__ in PUT /inventory',
      {
        method: 'PUT',
        path: '/inventory/product-1',
        headers: JSON_TYPE,
        body: '{"name":"Widget","unitPrice":"50.00","available":7,"__proto__":{"x":1}}',
      },
    ],
  ])('unknown fields: answers 400 to %s', async (_name, request) => {
    const problem = await expectRefusedWithoutChange(api, request);
    expect(problem.status).toBe(400);
  });

  // An array where an item object belongs used to pass @ValidateNested, and the order was stored
  // with an item that had neither productId nor quantity.
  it.each<[string, string]>([
    ['items [[ { valid item } ]]', order({ items: [[VALID_ITEM]] })],
    ['items [[]]', order({ items: [[]] })],
  ])('nested arrays: answers 400 to %s', async (_name, body) => {
    const problem = await expectRefusedWithoutChange(api, post(body));
    expect(problem.status).toBe(400);
  });

  // JSON.parse keeps the last of two equal keys: what a proxy or a log read could differ from what
  // the service acted on. Every write endpoint refuses such a body.
  it.each<[string, RawRequest, string]>([
    [
      'POST /orders naming customerId twice',
      post(
        '{"customerId":"customer-1","items":[{"productId":"product-1","quantity":1}],"customerId":"customer-2"}',
      ),
      'customerId',
    ],
    [
      'POST /orders with a quantity twice in an item',
      post(
        '{"customerId":"customer-1","items":[{"productId":"product-1","quantity":1,"quantity":500}]}',
      ),
      'items.0.quantity',
    ],
    [
      'PUT /inventory/{id} with available twice',
      {
        method: 'PUT',
        path: '/inventory/product-1',
        headers: JSON_TYPE,
        body: '{"name":"Widget","unitPrice":"25.00","available":5,"available":0}',
      },
      'available',
    ],
    [
      'an adjustment with delta twice, one of them escaped',
      {
        method: 'POST',
        path: '/inventory/product-1/adjustments',
        headers: JSON_TYPE,
        body: '{"delta":1,"reason":"count","\\u0064elta":-100}',
      },
      'delta',
    ],
  ])('a body with a duplicate key is refused (400): %s', async (_name, request, field) => {
    const problem = await expectRefusedWithoutChange(api, request);
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((error) => error.field)).toEqual([field]);
  });

  // A number used to be reported as too long rather than as not a string.
  it('customerEmail 5 is reported as a type error, not as "shorter than 254 characters"', async () => {
    const problem = await expectRefusedWithoutChange(api, post(order({ customerEmail: 5 })));
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors?.[0].message).toMatch(/customerEmail must be (a string|an email)/);
  });

  // application/*+json bodies used to be let through unparsed: the client was told its fields
  // were missing.
  // They were then read as plain JSON, which the document does not offer: now only
  // application/json is, on every operation that takes a body.
  it.each([
    'application/merge-patch+json',
    'application/vnd.evil+json',
    'application/problem+json',
  ])('a valid order sent as %s is refused with 415 and stores nothing', async (type) => {
    const problem = await expectRefusedWithoutChange(
      api,
      post(order({}), { 'content-type': type }),
    );
    expect(problem.status).toBe(415);
  });
});
