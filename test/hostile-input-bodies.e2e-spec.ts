import { gzipSync } from 'node:zlib';
import { removeTempDatabases } from './create-test-app.js';
import {
  ARRAYS,
  nested,
  JSON_TYPE,
  OBJECTS,
  order,
  post,
  rawCustomerId,
  rawItemField,
  rawQuantity,
  rawTop,
  RefusalProbe,
  UNKNOWN_ID,
  VALID_ITEM,
  VALID_ORDER,
  withItem,
} from './support/hostile-requests.js';

/**
 * Hostile bodies for POST /orders: too large, malformed, of the wrong types, with huge numbers,
 * unknown fields and long strings. Each must get a 4xx application/problem+json (never a 5xx) and
 * change nothing. Requests go out as raw bytes (test/support/raw-http.ts).
 */

afterAll(() => removeTempDatabases());

describe('POST /orders refuses hostile bodies', () => {
  const probe = new RefusalProbe();

  beforeAll(() => probe.start());

  afterAll(() => probe.close());

  describe('size', () => {
    it.each([
      {
        name: 'a valid order padded to 101 kB',
        request: post(order({ customerId: 'x'.repeat(101 * 1024) })),
      },
      { name: '1 MB of JSON', request: post(`{"customerId":"${'a'.repeat(1024 * 1024)}"}`) },
      {
        name: '60,000 levels of nested objects (360 kB)',
        request: post(`{"customerId":"c","items":${nested(60_000, ...OBJECTS)}}`),
      },
      {
        name: '100,000 levels of nested arrays (200 kB)',
        request: post(rawCustomerId(nested(100_000, ...ARRAYS))),
      },
      {
        name: 'a chunked body of 200 kB, without Content-Length',
        request: { ...post(order({ customerId: 'x'.repeat(200 * 1024) })), chunked: true },
      },
      {
        name: 'a gzip bomb (a few kB that inflate to 10 MB)',
        request: post(gzipSync(`{"customerId":"${'a'.repeat(10 * 1024 * 1024)}"}`), {
          ...JSON_TYPE,
          'content-encoding': 'gzip',
        }),
      },
    ])('answers 413 to $name', async ({ request }) => {
      const problem = await probe.refused(request, 413);
      expect(problem.detail).toMatch(/too large/i);
    });
  });

  describe('malformed JSON', () => {
    it.each([
      ['a truncated object', '{"customerId":"customer-1","items":[{"productId":"product-1","quant'],
      ['a body cut after a colon', '{"customerId":'],
      ['a lone opening brace', '{'],
      ['a trailing comma in the object', `${order({}).slice(0, -1)},}`],
      [
        'a trailing comma in an array',
        '{"customerId":"c","items":[{"productId":"p","quantity":1},]}',
      ],
      [
        'single quotes',
        "{'customerId':'customer-1','items':[{'productId':'product-1','quantity':1}]}",
      ],
      ['unquoted keys', '{customerId:"customer-1",items:[]}'],
      ['NaN', rawQuantity('NaN')],
      ['Infinity', rawQuantity('Infinity')],
      ['-Infinity', rawQuantity('-Infinity')],
      ['undefined', rawQuantity('undefined')],
      ['a hexadecimal number', rawQuantity('0x10')],
      ['a leading zero', rawQuantity('01')],
      ['a leading plus sign', rawQuantity('+1')],
      ['a bare word', 'hello'],
      ['bare words as values', '{"customerId":customer,"items":items}'],
      ['a comment', '{/* a comment */"customerId":"customer-1"}'],
      ['two documents', '{}{}'],
      ['an extra closing brace', `${order({})}}`],
      ['a missing colon', '{"customerId" "customer-1"}'],
      ['a double comma', '{"customerId":"customer-1",,"items":[]}'],
      ['an unterminated string', '{"customerId":"customer-1}'],
      ['a raw newline in a string', '{"customerId":"customer\n1"}'],
      ['a raw NUL in a string', '{"customerId":"customer\u00001"}'],
      ['an invalid escape', '{"customerId":"customer\\x41"}'],
      ['whitespace only', '   \n\t  '],
      ['0xff 0xfe bytes outside any string', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ])('answers 400 "not valid JSON" (or UTF-8) to %s', async (_name, body) => {
      const problem = await probe.refused(post(body), 400);
      expect(problem.detail).toMatch(/not valid (JSON|UTF-8)/);
    });

    it.each([
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"customer-1"'],
      ['true', 'true'],
      ['an empty array', '[]'],
      ['an array holding a valid order', JSON.stringify([VALID_ORDER])],
      ['50,000 levels of nested arrays (100 kB)', nested(50_000, ...ARRAYS)],
    ])('answers 400 to JSON that is not an object: %s', async (_name, body) => {
      const problem = await probe.refused(post(body), 400);
      expect(problem.detail).toMatch(/must be a JSON object|not valid JSON/);
    });

    it('answers 400 to an empty body sent as JSON, naming the missing fields', async () => {
      for (const request of [post(''), { ...post(''), chunked: true }]) {
        const problem = await probe.refused(request, 400);
        // customerId may be left out (a customer's token names it); an admin's missing one is
        // refused after the body's shape (see access-control.e2e-spec.ts).
        expect(problem.errors?.map((e) => e.field)).toEqual(['items']);
        expect(problem.detail).toMatch(/items must be an array/);
      }
    });
  });

  describe('wrong types, huge numbers, unknown fields, long strings', () => {
    it('reports type errors as type errors', async () => {
      await probe.refusedNaming(
        withItem({ quantity: '2' }),
        'items.0.quantity',
        /must be an integer/,
      );
      await probe.refusedNaming(order({ items: 'x' }), 'items', /must be an array/);
      await probe.refusedNaming(order({ customerId: 5 }), 'customerId', /must be a string/);
    });

    const IS_STRING = (field: string): RegExp => new RegExp(`^${field} must be a string$`);
    const NOT_ARRAY = /^items must be an array$/;
    const NOT_INTEGER = /^quantity must be an integer number$/;
    const TOO_SMALL = /^quantity must not be less than 1$/;
    const TOO_BIG = /^quantity must not be greater than 1000$/;

    it.each<[string, string, string, RegExp]>([
      ['customerId 5', order({ customerId: 5 }), 'customerId', IS_STRING('customerId')],
      ['customerId true', order({ customerId: true }), 'customerId', IS_STRING('customerId')],
      ['customerId null', order({ customerId: null }), 'customerId', IS_STRING('customerId')],
      ['customerId {}', order({ customerId: {} }), 'customerId', IS_STRING('customerId')],
      ['customerId []', order({ customerId: [] }), 'customerId', IS_STRING('customerId')],
      ['customerId ["c"]', order({ customerId: ['c'] }), 'customerId', IS_STRING('customerId')],
      ['customerId ""', order({ customerId: '' }), 'customerId', /longer than or equal to 1/],
      ['customerEmail 5', order({ customerEmail: 5 }), 'customerEmail', /^customerEmail /],
      ['customerEmail true', order({ customerEmail: true }), 'customerEmail', /^customerEmail /],
      ['customerEmail {}', order({ customerEmail: {} }), 'customerEmail', /^customerEmail /],
      ['customerEmail "x"', order({ customerEmail: 'x' }), 'customerEmail', /must be an email/],
      ['items "x"', order({ items: 'x' }), 'items', NOT_ARRAY],
      ['items as an object', order({ items: VALID_ITEM }), 'items', NOT_ARRAY],
      ['items 3', order({ items: 3 }), 'items', NOT_ARRAY],
      ['items true', order({ items: true }), 'items', NOT_ARRAY],
      ['items null', order({ items: null }), 'items', NOT_ARRAY],
      ['items []', order({ items: [] }), 'items', /at least 1 elements/],
      ['items [null]', order({ items: [null] }), 'items', /each of items must be an object/],
      ['items [1]', order({ items: [1] }), 'items', /each of items must be an object/],
      ['items ["x"]', order({ items: ['x'] }), 'items', /each of items must be an object/],
      ['items [true]', order({ items: [true] }), 'items', /each of items must be an object/],
      ['productId 5', withItem({ productId: 5 }), 'items.0.productId', IS_STRING('productId')],
      [
        'productId null',
        withItem({ productId: null }),
        'items.0.productId',
        IS_STRING('productId'),
      ],
      [
        'productId true',
        withItem({ productId: true }),
        'items.0.productId',
        IS_STRING('productId'),
      ],
      ['productId {}', withItem({ productId: {} }), 'items.0.productId', IS_STRING('productId')],
      ['productId []', withItem({ productId: [] }), 'items.0.productId', IS_STRING('productId')],
      ['productId ""', withItem({ productId: '' }), 'items.0.productId', /longer than or equal/],
      ['quantity "2"', withItem({ quantity: '2' }), 'items.0.quantity', NOT_INTEGER],
      ['quantity "abc"', withItem({ quantity: 'abc' }), 'items.0.quantity', NOT_INTEGER],
      ['quantity ""', withItem({ quantity: '' }), 'items.0.quantity', NOT_INTEGER],
      ['quantity true', withItem({ quantity: true }), 'items.0.quantity', NOT_INTEGER],
      ['quantity false', withItem({ quantity: false }), 'items.0.quantity', NOT_INTEGER],
      ['quantity null', withItem({ quantity: null }), 'items.0.quantity', NOT_INTEGER],
      ['quantity {}', withItem({ quantity: {} }), 'items.0.quantity', NOT_INTEGER],
      ['quantity [2]', withItem({ quantity: [2] }), 'items.0.quantity', NOT_INTEGER],
      ['quantity 2.5', withItem({ quantity: 2.5 }), 'items.0.quantity', NOT_INTEGER],
      ['quantity -3', withItem({ quantity: -3 }), 'items.0.quantity', TOO_SMALL],
      ['quantity 0', withItem({ quantity: 0 }), 'items.0.quantity', TOO_SMALL],
      ['quantity 1001', withItem({ quantity: 1001 }), 'items.0.quantity', TOO_BIG],
    ])('answers 400 to a wrong type: %s', async (_name, body, field, message) => {
      await probe.refusedNaming(body, field, message);
    });

    it.each<[string, string, string, RegExp]>([
      ['quantity 1e308', rawQuantity('1e308'), 'items.0.quantity', TOO_BIG],
      ['quantity -1e308', rawQuantity('-1e308'), 'items.0.quantity', TOO_SMALL],
      ['quantity 9007199254740993', rawQuantity('9007199254740993'), 'items.0.quantity', TOO_BIG],
      [
        'quantity -9007199254740993',
        rawQuantity('-9007199254740993'),
        'items.0.quantity',
        TOO_SMALL,
      ],
      ['quantity -0', rawQuantity('-0'), 'items.0.quantity', TOO_SMALL],
      ['quantity 1e-400 (0 once parsed)', rawQuantity('1e-400'), 'items.0.quantity', TOO_SMALL],
      [
        'quantity 1e400 (Infinity once parsed)',
        rawQuantity('1e400'),
        'items.0.quantity',
        NOT_INTEGER,
      ],
      [
        'quantity 1.0000000000000002',
        rawQuantity('1.0000000000000002'),
        'items.0.quantity',
        NOT_INTEGER,
      ],
      ['customerId 1e308', rawCustomerId('1e308'), 'customerId', IS_STRING('customerId')],
      [
        'customerId 9007199254740993',
        rawCustomerId('9007199254740993'),
        'customerId',
        IS_STRING('customerId'),
      ],
      ['customerId -0', rawCustomerId('-0'), 'customerId', IS_STRING('customerId')],
    ])('answers 400 to a huge or odd number: %s', async (_name, body, field, message) => {
      await probe.refusedNaming(body, field, message);
    });

    it.each<[string, string, string]>([
      ['discount', rawTop('discount', '"10.00"'), 'discount'],
      ['id', rawTop('id', `"${UNKNOWN_ID}"`), 'id'],
      ['status', rawTop('status', '"COMPLETED"'), 'status'],
      ['totalAmount', rawTop('totalAmount', '"0.00"'), 'totalAmount'],
      ['currency', rawTop('currency', '"EUR"'), 'currency'],
      ['customerid (another case)', rawTop('customerid', '"c"'), 'customerid'],
      ['then', rawTop('then', '1'), 'then'],
      ['toJSON', rawTop('toJSON', '1'), 'toJSON'],
      ['a key with a dot', rawTop('items.0', '1'), 'items.0'],
      ['unitPrice in an item', rawItemField('unitPrice', '"0.01"'), 'items.0.unitPrice'],
      ['price in an item', rawItemField('price', '0'), 'items.0.price'],
      ['sku in an item', rawItemField('sku', '"x"'), 'items.0.sku'],
      ['then in an item', rawItemField('then', '{}'), 'items.0.then'],
    ])('answers 400 to the unknown field %s', async (_name, body, field) => {
      await probe.refusedNaming(body, field, /should not exist$/);
    });

    it('answers 400 to an unknown field holding 500 nested arrays, naming the field', async () => {
      await probe.refusedNaming(
        rawItemField('extra', nested(500, ...ARRAYS)),
        'items.0.extra',
        /items\.0\.extra is nested deeper than 16 levels/,
      );
    });

    it.each<[string, string, string, RegExp]>([
      [
        'customerId of 10,000 characters',
        order({ customerId: 'c'.repeat(10_000) }),
        'customerId',
        /shorter than or equal to 100/,
      ],
      [
        'customerId of 101 characters',
        order({ customerId: 'c'.repeat(101) }),
        'customerId',
        /shorter than or equal to 100/,
      ],
      [
        'productId of 1,000 characters',
        withItem({ productId: 'p'.repeat(1000) }),
        'items.0.productId',
        /shorter than or equal to 64/,
      ],
      [
        'customerEmail of 10,000 characters',
        order({ customerEmail: `${'a'.repeat(10_000)}@example.com` }),
        'customerEmail',
        /shorter than or equal to 254/,
      ],
      [
        '1,000 items',
        order({
          items: Array.from({ length: 1000 }, (_, i) => ({ productId: `p-${i}`, quantity: 1 })),
        }),
        'items',
        /no more than 100 elements/,
      ],
      [
        '500 nested arrays as customerId',
        rawCustomerId(nested(500, ...ARRAYS)),
        'customerId',
        /customerId is nested deeper than 16 levels/,
      ],
    ])('answers 400 to %s', async (_name, body, field, message) => {
      await probe.refusedNaming(body, field, message);
    });
  });
});
