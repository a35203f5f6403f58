import { inspectJsonBody, MAX_BODY_DEPTH, verifyUtf8 } from './json-body.js';

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

describe('verifyUtf8', () => {
  it('lets valid UTF-8 through and stops invalid bytes with a 400', () => {
    expect(() => verifyUtf8(null, null, Buffer.from('{"a":"é"}'))).not.toThrow();
    expect(() => verifyUtf8(null, null, Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });
});
