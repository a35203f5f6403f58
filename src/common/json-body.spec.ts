import { duplicateKeyOf, inspectJsonBody, MAX_BODY_DEPTH, verifyJsonText } from './json-body.js';

function nestedArrays(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('inspectJsonBody', () => {
  it('accepts a plain order', () => {
    expect(
      inspectJsonBody({ customerId: 'c', items: [{ productId: 'p', quantity: 1 }] }),
    ).toBeUndefined();
  });

  it('refuses what is not an object at the top', () => {
    for (const body of [[1], 'x', 42, null, true]) {
      expect(inspectJsonBody(body)?.message).toBe('the request body must be a JSON object');
    }
  });

  it('refuses nesting past the limit without recursion, naming the field that holds it', () => {
    expect(inspectJsonBody({ a: nestedArrays(MAX_BODY_DEPTH - 2) })).toBeUndefined();
    expect(inspectJsonBody({ customerId: nestedArrays(100_000) })).toEqual({
      field: 'customerId',
      message: `customerId is nested deeper than ${MAX_BODY_DEPTH} levels`,
    });
    expect(inspectJsonBody({ items: [{ extra: nestedArrays(50) }] })?.field).toBe('items.0.extra');
  });

  it('refuses prototype and built-in method names as keys, at any depth', () => {
    for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
      const body = JSON.parse(`{"items":[{"${key}":1}]}`) as unknown;
      expect(inspectJsonBody(body)).toEqual({
        field: `items.0.${key}`,
        message: `items.0.${key} is not an allowed name`,
      });
    }
  });

  it('refuses lone surrogates in values', () => {
    expect(inspectJsonBody({ customerId: 'c\ud800' })?.field).toBe('customerId');
  });
});

describe('verifyJsonText', () => {
  it('lets valid UTF-8 through and stops invalid bytes with a 400', () => {
    expect(() => verifyJsonText(null, null, Buffer.from('{"a":"é"}'))).not.toThrow();
    expect(() => verifyJsonText(null, null, Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});

describe('duplicateKeyOf', () => {
  it.each<[string, string | undefined]>([
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"items":[{"p":1},{"p":1,"q":2,"p":3}]}', 'items.1.p'],
    ['{"o":{"x":{"y":1,"y":2}}}', 'o.x.y'],
    ['{"a":{"k":1},"b":{"k":1}}', undefined],
    ['{"s":"a \\" , [ { \\"k\\": 1, \\"k\\": 2 }","k":1}', undefined],
    ['{"a" : 1, "a"\n:\t2}', 'a'],
    ['[{"a":1},{"a":1}]', undefined],
    ['{"a":1,"a', undefined],
    ['not json', undefined],
  ])('%s -> %s', (text, duplicate) => {
    expect(duplicateKeyOf(text)).toBe(duplicate);
  });

  it('is refused by verifyJsonText as a validation error naming the field', () => {
    expect(() =>
      verifyJsonText(null, null, Buffer.from('{"customerId":"a","customerId":"b"}')),
    ).toThrow('The request is not valid');
  });
});
