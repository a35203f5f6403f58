import fc from 'fast-check';
import { VALID_ITEM, VALID_ORDER } from './hostile-requests.js';

/**
 * The generated requests of test/hostile-input-generated.e2e-spec.ts (fast-check arbitraries:
 * bodies, almost valid orders, header values) and the oracle that says what POST /orders must
 * answer to a body, as the README's contract decides it.
 */

/** Keys that are never data: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set([
  '__proto__',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
]);
const TOP_KEYS = new Set(['customerId', 'customerEmail', 'items']);
const ITEM_KEYS = new Set(['productId', 'quantity']);
const GOOD_EMAILS = ['ada@example.com', 'bob.smith+orders@example.co.uk'];
export const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

type Verdict = 'valid' | 'invalid' | 'unknown';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Length of a printable-ASCII string; undefined for other strings (the validator counts them its own way). */
const asciiLength = (value: string): number | undefined =>
  /^[\x20-\x7e]*$/.test(value) ? value.length : undefined;

/** `.` and `..` alone are no identifier (a path cannot carry them). */
const isDotSegment = (value: string): boolean => value === '.' || value === '..';

/**
 * What POST /orders must answer to a parsed JSON body, as far as the README's contract decides it:
 * 'valid' (202), 'invalid' (400) or 'unknown' (either, e.g. a non-ASCII length).
 */
function verdict(body: unknown): Verdict {
  if (!isPlainObject(body)) return 'invalid';
  let unknown = false;
  for (const key of Object.keys(body)) {
    if (!TOP_KEYS.has(key) || FORBIDDEN_KEYS.has(key)) return 'invalid';
  }
  const { customerId, customerEmail, items } = body;
  if (typeof customerId !== 'string' || customerId.length === 0) return 'invalid';
  if (isDotSegment(customerId)) return 'invalid';
  const idLength = asciiLength(customerId);
  if (idLength === undefined) unknown = true;
  else if (idLength > 100) return 'invalid';
  if (customerEmail !== undefined) {
    if (customerEmail === null) unknown = true;
    else if (typeof customerEmail !== 'string' || !customerEmail.includes('@')) return 'invalid';
    else if (!GOOD_EMAILS.includes(customerEmail)) unknown = true;
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > 100) return 'invalid';
  const productIds: string[] = [];
  for (const item of items as unknown[]) {
    if (!isPlainObject(item)) return 'invalid';
    for (const key of Object.keys(item)) {
      if (!ITEM_KEYS.has(key) || FORBIDDEN_KEYS.has(key)) return 'invalid';
    }
    const { productId, quantity } = item;
    if (typeof productId !== 'string' || productId.length === 0) return 'invalid';
    if (isDotSegment(productId)) return 'invalid';
    const length = asciiLength(productId);
    if (length === undefined) unknown = true;
    else if (length > 64) return 'invalid';
    if (typeof quantity !== 'number' || !Number.isInteger(quantity)) return 'invalid';
    if (quantity < 1 || quantity > 1000) return 'invalid';
    productIds.push(productId);
  }
  if (new Set(productIds).size !== productIds.length) return 'invalid';
  return unknown ? 'unknown' : 'valid';
}

/** What a raw body text must get: non-JSON and non-objects are refused before validation. */
export function verdictOfText(text: string): Verdict {
  const trimmed = text.replace(/^\uFEFF/, '');
  if (trimmed.length === 0) return 'invalid';
  try {
    return verdict(JSON.parse(trimmed));
  } catch {
    return 'invalid';
  }
}

export const visibleAscii = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
/** What Node lets a client put in a header value: tab, printable ASCII and latin1. */
export const headerChar = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constant(0x09),
  )
  .map((c) => String.fromCharCode(c));

const productIdArb = fc.oneof(
  fc.constantFrom('product-1', 'product-2', 'product-3'),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/).filter((id) => !isDotSegment(id)),
);
export const validOrderArb = fc.record(
  {
    customerId: fc.oneof(
      fc.constant('customer-1'),
      fc
        .string({ unit: visibleAscii, minLength: 1, maxLength: 100 })
        .filter((id) => !isDotSegment(id)),
    ),
    customerEmail: fc.constantFrom(...GOOD_EMAILS),
    items: fc.uniqueArray(
      fc.record({ productId: productIdArb, quantity: fc.integer({ min: 1, max: 1000 }) }),
      { minLength: 1, maxLength: 4, selector: (item) => item.productId },
    ),
  },
  { requiredKeys: ['customerId', 'items'] },
);

/** Values to put where a field was: boundary values weigh more than arbitrary ones. */
const hostileValueArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.constantFrom<unknown>(
      '2',
      '',
      ' ',
      'x'.repeat(101),
      'y'.repeat(1000),
      '1',
      '1e3',
      '0x10',
      'NaN',
      'product-1',
      'ada@example.com',
      'not-an-email',
      2.5,
      -1,
      0,
      1,
      1000,
      1001,
      1e308,
      -1e308,
      2 ** 53 + 2,
      true,
      false,
      null,
      [],
      {},
      [1],
      ['product-1'],
      [VALID_ITEM],
      { ...VALID_ITEM },
    ),
    weight: 4,
  },
  { arbitrary: fc.constantFrom(-1, 0, 1, 2, 999, 1000, 1001), weight: 3 },
  { arbitrary: fc.integer({ min: -2, max: 1002 }), weight: 1 },
  { arbitrary: fc.string({ unit: visibleAscii, minLength: 60, maxLength: 110 }), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
);
const keyArb = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'then',
    'toJSON',
    'length',
    'unitPrice',
    'price',
    'id',
    'status',
    'totalAmount',
    'customerid',
    'Items',
    '',
    ' ',
    'items.0',
    '0',
    'customerId',
    'customerEmail',
    'items',
    'productId',
    'quantity',
  ),
  fc.string({ maxLength: 20 }),
);
const TARGETS = ['customerId', 'customerEmail', 'items', 'item', 'productId', 'quantity'] as const;
type Mutation =
  | { kind: 'replace'; target: (typeof TARGETS)[number]; index: number; value: unknown }
  | { kind: 'remove'; target: (typeof TARGETS)[number]; index: number }
  | { kind: 'extra'; inItem: boolean; index: number; key: string; value: unknown };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    target: fc.constantFrom(...TARGETS),
    index: fc.nat(3),
    value: hostileValueArb,
  }),
  fc.record({
    kind: fc.constant('remove' as const),
    target: fc.constantFrom(...TARGETS),
    index: fc.nat(3),
  }),
  fc.record({
    kind: fc.constant('extra' as const),
    inItem: fc.boolean(),
    index: fc.nat(3),
    key: keyArb,
    value: hostileValueArb,
  }),
);

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so that "__proto__" becomes an own key (as JSON.parse makes it), not the prototype.
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A valid order with one or more fields replaced, removed, or extra keys added. */
function mutate(valid: object, mutations: Mutation[]): Record<string, unknown> {
  const body = structuredClone(valid) as Record<string, unknown>;
  for (const m of mutations) {
    const list =
      Array.isArray(body.items) && body.items.length > 0 ? (body.items as unknown[]) : undefined;
    const index = list ? m.index % list.length : 0;
    const item = list && isPlainObject(list[index]) ? list[index] : undefined;
    const value = 'value' in m ? structuredClone(m.value) : undefined;
    if (m.kind === 'extra') {
      const holder = m.inItem ? item : body;
      if (holder) setOwn(holder, m.key, value);
      continue;
    }
    if (m.target === 'customerId' || m.target === 'customerEmail' || m.target === 'items') {
      if (m.kind === 'remove') delete body[m.target];
      else setOwn(body, m.target, value);
    } else if (m.target === 'item') {
      if (!list) continue;
      if (m.kind === 'remove') list.splice(index, 1);
      else list[index] = value;
    } else if (item) {
      if (m.kind === 'remove') delete item[m.target];
      else setOwn(item, m.target, value);
    }
  }
  return body;
}

/** Bodies on each side of every limit of the contract, tried before the generated ones. */
export const BOUNDARY_BODIES: Array<Record<string, unknown>> = [
  { ...VALID_ORDER },
  { customerId: 'c', items: [VALID_ITEM] },
  { ...VALID_ORDER, items: [{ productId: 'product-1', quantity: 0 }] },
  { ...VALID_ORDER, items: [{ productId: 'product-1', quantity: 1000 }] },
  { ...VALID_ORDER, items: [{ productId: 'product-1', quantity: 1001 }] },
  { ...VALID_ORDER, customerId: 'c'.repeat(100) },
  { ...VALID_ORDER, customerId: 'c'.repeat(101) },
  { ...VALID_ORDER, customerId: '' },
  { ...VALID_ORDER, items: [{ productId: 'p'.repeat(64), quantity: 1 }] },
  { ...VALID_ORDER, items: [{ productId: 'p'.repeat(65), quantity: 1 }] },
  {
    ...VALID_ORDER,
    items: Array.from({ length: 100 }, (_, i) => ({ productId: `p-${i}`, quantity: 1 })),
  },
  {
    ...VALID_ORDER,
    items: Array.from({ length: 101 }, (_, i) => ({ productId: `p-${i}`, quantity: 1 })),
  },
  { ...VALID_ORDER, items: [VALID_ITEM, { ...VALID_ITEM, quantity: 2 }] },
  { ...VALID_ORDER, x: 1 },
  { ...VALID_ORDER, items: [{ ...VALID_ITEM, x: 1 }] },
];

export const almostValidArb = fc
  .tuple(validOrderArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
  .map(([valid, mutations]) => mutate(valid, mutations));

export const anyBodyArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .anything({
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withDate: true,
      withTypedArray: true,
    })
    .map((value) => JSON.stringify(value) ?? String(value)),
  fc.dictionary(keyArb, hostileValueArb, { maxKeys: 5 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/json; boundary=x',
  'application/merge-patch+json',
  'application/problem+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/*',
  'json',
  '',
  ';',
  'application/json, text/plain',
];
