import fc from 'fast-check';
import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import {
  createTestApp,
  placeOrder,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';
import { DocumentArbitraries, type Schema } from './support/document-arbitraries.js';
import { recordValidatedCount, ResponseValidator } from './support/response-validator.js';
import { mintToken } from './support/tokens.js';

/**
 * A generated round over the whole served document: for every operation, requests made from its
 * own schemas (path and query parameters, headers, bodies) as an admin, as the customer who owns
 * the order the round knows, as another customer and anonymously. Seeded, so every run sends the
 * same requests. Every answer must be one the document lists, with a body that matches it; none
 * may be a 5xx; a request valid per the document is never refused as invalid (400); and nobody
 * gets past the access rules (anonymous: 401 where a token is required; customers: 403 on what
 * is for admins; another customer's order is not found).
 */

/** Requests per operation and principal. */
const RUNS = 40;
const SEED = 20261206;
const OWNER = 'round-owner';
const OTHER = 'round-other';

type Who = 'admin' | 'owner' | 'other' | 'anonymous';
const PRINCIPALS: Who[] = ['admin', 'owner', 'other', 'anonymous'];

/** What only admins may do (README, Security): every other principal gets 401 or 403. */
const ADMIN_ONLY = [
  /^PUT \/inventory\/\{productId\}$/,
  /^POST \/inventory\/\{productId\}\/adjustments$/,
  /^GET \/inventory\/\{productId\}\/audit$/,
  /^(GET|POST) \/admin\//,
  /^GET \/metrics$/,
];

/**
 * Parameters the round leaves out, each for a reason of its own: `cursor` is opaque (only one the
 * service handed out is valid, and the document says so), `Prefer` asks the service to hold the
 * answer up to 30 s, which the round has no time for.
 */
const LEFT_OUT = new Set(['cursor', 'Prefer']);

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

interface Operation {
  method: string;
  template: string;
  parameters: Parameter[];
  body?: Schema;
  isPublic: boolean;
}

interface Generated {
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

afterAll(() => removeTempDatabases());

describe('a generated round over the served document', () => {
  let t: TestApp;
  let document: OpenAPIObject;
  let validator: ResponseValidator;
  /** Values of the round's own resources, mixed into the generated parameters and bodies. */
  const known: Record<string, string[]> = {};
  const tokens = new Map<Who, string>();

  beforeAll(async () => {
    // Streams end at once here: the round reads each answer to its end.
    t = await createTestApp({ config: { streamMaxMs: 300 } });
    document = (await request(t.http).get('/docs-json').expect(200)).body as OpenAPIObject;
    validator = new ResponseValidator(document);
    const order = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }], OWNER);
    await settled(t.api, order);
    known.id = [order];
    known.orderId = [order];
    known.productId = ['product-1', 'product-2'];
    known.customerId = [OWNER, OTHER];
    tokens.set('admin', await mintToken({ role: 'admin' }));
    tokens.set('owner', await mintToken({ role: 'customer', sub: OWNER }));
    tokens.set('other', await mintToken({ role: 'customer', sub: OTHER }));
  });

  afterAll(async () => {
    // The round's answers count with the run's (see test/support/run-reporter.js).
    recordValidatedCount(expect.getState().testPath ?? 'unknown', validator?.validated ?? 0);
    await t.close();
  });

  function operations(): Operation[] {
    const found: Operation[] = [];
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, raw] of Object.entries(item as Record<string, unknown>)) {
        const operation = raw as {
          parameters?: Parameter[];
          requestBody?: { content: Record<string, { schema: Schema }> };
          security?: unknown[];
        };
        found.push({
          method: method.toUpperCase(),
          template,
          parameters: (operation.parameters ?? []).filter((p) => !LEFT_OUT.has(p.name)),
          body: operation.requestBody?.content['application/json']?.schema,
          isPublic: Array.isArray(operation.security) && operation.security.length === 0,
        });
      }
    }
    return found;
  }

  function requestsOf(operation: Operation, who: Who): Generated[] {
    const values = new DocumentArbitraries(
      (document.components?.schemas ?? {}) as Record<string, Schema>,
      who === 'admin' ? 'admin' : 'customer',
      known,
    );
    const parameter = (p: Parameter) => values.named(p.name, p.schema);
    const ofKind = (kind: Parameter['in']) =>
      fc.record(
        Object.fromEntries(
          operation.parameters.filter((p) => p.in === kind).map((p) => [p.name, parameter(p)]),
        ),
        {
          requiredKeys: operation.parameters
            .filter((p) => p.in === kind && p.required)
            .map((p) => p.name),
        },
      );
    const arbitrary = fc.record({
      path: ofKind('path'),
      query: ofKind('query'),
      headers: ofKind('header'),
      body: operation.body ? values.valueOf(operation.body) : fc.constant(undefined),
    });
    return fc
      .sample(arbitrary, { numRuns: RUNS, seed: SEED + PRINCIPALS.indexOf(who) })
      .map((sample) => {
        const path = operation.template.replace(/\{(\w+)\}/g, (_match, name: string) =>
          encodeURIComponent(String(sample.path[name])),
        );
        const query = new URLSearchParams(
          Object.entries(sample.query).map(([name, value]): [string, string] => [
            name,
            String(value),
          ]),
        ).toString();
        return {
          path: query ? `${path}?${query}` : path,
          headers: Object.fromEntries(
            Object.entries(sample.headers).map(([name, value]) => [name, String(value)]),
          ),
          body: sample.body,
        };
      });
  }

  it('gets, for thousands of requests valid per the document, only answers it lists and no access slip', async () => {
    const findings: string[] = [];
    let sent = 0;
    for (const operation of operations()) {
      const name = `${operation.method} ${operation.template}`;
      const adminOnly = ADMIN_ONLY.some((rule) => rule.test(name));
      for (const who of PRINCIPALS) {
        for (const generated of requestsOf(operation, who)) {
          let call = request(t.http)[operation.method.toLowerCase() as 'get'](generated.path);
          const token = tokens.get(who);
          if (token) call = call.set('authorization', `Bearer ${token}`);
          for (const [header, value] of Object.entries(generated.headers)) call.set(header, value);
          if (generated.body !== undefined) call = call.send(generated.body as object);
          const response = await call;
          sent++;
          const where = `${who} ${operation.method} ${generated.path} -> ${response.status}`;
          try {
            validator.check(operation.method, generated.path, response);
          } catch (error) {
            findings.push(`${where}: ${(error as Error).message}`);
            continue;
          }
          const problem = response.body as { code?: string; detail?: string };
          if (response.status >= 500) findings.push(`${where}: ${problem.detail}`);
          if (response.status === 400) {
            findings.push(`${where}: valid per the document, refused: ${problem.detail}`);
          }
          const succeeded = response.status < 400;
          if (who === 'anonymous' && !operation.isPublic && response.status !== 401) {
            findings.push(`${where}: anonymous, not refused with 401`);
          }
          if ((who === 'owner' || who === 'other') && adminOnly && succeeded) {
            findings.push(`${where}: a customer did what only admins may`);
          }
          if (who === 'other' && succeeded && generated.path.includes(known.id[0])) {
            findings.push(`${where}: another customer reached the owner's order`);
          }
        }
      }
    }
    expect(findings.slice(0, 30)).toEqual([]);
    expect(sent).toBeGreaterThan(2000);
  }, 240_000);

  it('refuses every mutation of a valid body (400, as the document lists) and never answers 5xx', async () => {
    const findings: string[] = [];
    let sent = 0;
    for (const operation of operations().filter((o) => o.body)) {
      const schema = new DocumentArbitraries(
        (document.components?.schemas ?? {}) as Record<string, Schema>,
      ).resolve(operation.body!);
      const properties = Object.entries((schema.properties ?? {}) as Record<string, Schema>);
      const required = (schema.required ?? []) as string[];
      const bounded = properties.find(([, p]) => typeof p.maxLength === 'number');
      const mutations: Array<[string, (body: Record<string, unknown>) => void]> = [
        ['an unknown field', (body) => (body.unexpected = 1)],
        ['a property of another type', (body) => (body[properties[0][0]] = [[]])],
        ...required.map((name): [string, (body: Record<string, unknown>) => void] => [
          `no ${name}`,
          (body) => delete body[name],
        ]),
        ...(bounded
          ? [
              [
                `${bounded[0]} one character too long`,
                (body: Record<string, unknown>) =>
                  (body[bounded[0]] = 'a'.repeat((bounded[1].maxLength as number) + 1)),
              ] as [string, (body: Record<string, unknown>) => void],
            ]
          : []),
      ];
      for (const generated of requestsOf(operation, 'admin').slice(0, 6)) {
        for (const [what, mutate] of mutations) {
          const body = structuredClone(generated.body) as Record<string, unknown>;
          mutate(body);
          const response = await request(t.http)
            [operation.method.toLowerCase() as 'post'](generated.path)
            .set('authorization', `Bearer ${tokens.get('admin')}`)
            .send(body);
          sent++;
          const where = `${operation.method} ${generated.path} with ${what} -> ${response.status}`;
          try {
            validator.check(operation.method, generated.path, response);
          } catch (error) {
            findings.push(`${where}: ${(error as Error).message}`);
            continue;
          }
          if (response.status !== 400) findings.push(`${where}: not refused as invalid`);
        }
      }
    }
    expect(findings.slice(0, 30)).toEqual([]);
    expect(sent).toBeGreaterThan(100);
  }, 120_000);
});
