import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Parser } from '@asyncapi/parser';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Response as TestResponse } from 'supertest';
import { registeredEventTypes } from '../src/durable-cqrs/domain-event.js';
import { SubscriberRegistry } from '../src/durable-cqrs/subscribers.js';
import type { Schema } from './support/document-arbitraries.js';
import { ResponseValidator } from './support/response-validator.js';
import {
  createTestApp,
  placeOrder,
  removeTempDatabases,
  settled,
  tempDatabaseUrl,
  validatedResponses,
  type TestApp,
} from './create-test-app.js';
import { startBuiltService, stopBuiltService, type BuiltService } from './support/built-service.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
/** The linters run offline: no telemetry, no update check. */
const OFFLINE_ENV = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
};

let t: TestApp;
/**
 * The built service, as `npm start` runs it: the documents linted and read here are the ones it
 * serves (under Jest, some libraries describe themselves differently: terminus' health check,
 * for one, cannot load @nestjs/swagger there).
 */
let served: BuiltService;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  // The catalog names the broker's objects by the prefix: the same as the test application's.
  served = await startBuiltService(await tempDatabaseUrl(), { AMQP_PREFIX: t.config.amqpPrefix });
  dir = mkdtempSync(join(tmpdir(), 'order-service-contract-'));
});

afterAll(async () => {
  await t.close();
  if (served) await stopBuiltService(served);
  await removeTempDatabases();
  rmSync(dir, { recursive: true, force: true });
});

async function servedDocument(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${served.base}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** Runs a linter; it exits non-zero on findings, which the caller reads from its output. */
async function lint(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(BIN, command), args, { cwd: ROOT, env: OFFLINE_ENV });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    if (!stdout) throw new Error(`${command} failed: ${stderr}`, { cause: error });
    return stdout;
  }
}

describe('OpenAPI document (/docs-json)', () => {
  let file: string;

  beforeAll(async () => {
    file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(await servedDocument('/docs-json'), null, 2));
  });

  it('passes Spectral (spectral:oas) with neither errors nor warnings', async () => {
    const output = await lint('spectral', [
      'lint',
      file,
      '--ruleset',
      join(ROOT, '.spectral.yaml'),
      '--format',
      'json',
      '--quiet',
    ]);
    const problems = JSON.parse(output || '[]') as Array<{
      code: string;
      message: string;
      path: string[];
      severity: number;
    }>;
    // Severity 0 is an error, 1 a warning.
    const found = problems
      .filter((p) => p.severity <= 1)
      .map((p) => `${p.code} ${p.path.join('.')}: ${p.message}`);
    expect(found).toEqual([]);
  }, 60_000);

  it('passes Redocly (recommended, redocly.yaml) with neither errors nor warnings', async () => {
    const output = await lint('redocly', [
      'lint',
      file,
      '--config',
      join(ROOT, 'redocly.yaml'),
      '--format',
      'json',
    ]);
    const report = JSON.parse(output) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toEqual(expect.objectContaining({ errors: 0, warnings: 0 }));
  }, 60_000);

  it('says what the service takes: nullable references typed, identifiers as the service checks them', async () => {
    const document = (await servedDocument('/docs-json')) as {
      components: { schemas: Record<string, { properties: Record<string, Schema> }> };
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ name: string; schema: Schema }> }>
      >;
    };
    // OpenAPI 3.0 reads `nullable` only beside a `type`: a created product's audit has no before.
    expect(document.components.schemas.CatalogChangeDto.properties.before).toMatchObject({
      type: 'object',
      nullable: true,
    });
    const id = document.paths['/orders/{id}'].get.parameters!.find((p) => p.name === 'id')!;
    const pattern = new RegExp(id.schema.pattern as string);
    for (const refused of ['a\u0000', 'a\u202E', '\uE000', '\uFFFF', '\u0378', '.', '..']) {
      expect({ refused, matches: pattern.test(refused) }).toEqual({ refused, matches: false });
    }
    for (const taken of ['order-1', 'Ærø', '注文', '.a', '...']) {
      expect({ taken, matches: pattern.test(taken) }).toEqual({ taken, matches: true });
    }
  });

  it('describes the problem+json answers, path parameters and security of every operation', async () => {
    const document = (await servedDocument('/docs-json')) as {
      paths: Record<string, Record<string, OperationShape>>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        const names = (operation.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        expect([where, names.sort()]).toEqual([
          where,
          [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort(),
        ]);
        for (const [status, response] of Object.entries(operation.responses)) {
          // The health probes answer in their own (terminus) format, 503 included.
          if (Number(status) < 400 || path.startsWith('/health')) continue;
          expect([where, status, Object.keys(response.content ?? {})]).toEqual([
            where,
            status,
            ['application/problem+json'],
          ]);
        }
        const isPublic = path.startsWith('/health');
        expect([where, operation.security ?? 'default']).toEqual([
          where,
          isPublic ? [] : 'default',
        ]);
        if (!isPublic)
          expect([where, Object.keys(operation.responses)]).toEqual([
            where,
            expect.arrayContaining(['401', '429', '503']),
          ]);
      }
    }
  });
});

interface OperationShape {
  parameters?: Array<{ in: string; name: string }>;
  responses: Record<string, { content?: Record<string, unknown> }>;
  security?: unknown[];
}

describe('answers checked against the document', () => {
  it('refuses an undocumented status, content type or body', async () => {
    const validator = new ResponseValidator(
      (await servedDocument('/docs-json')) as unknown as OpenAPIObject,
    );
    const answer = (
      status: number,
      type: string,
      text: string,
      headers: Record<string, string> = { 'x-correlation-id': 'c-1' },
    ) =>
      ({
        status,
        headers: { 'content-type': type, ...headers },
        text,
      }) as unknown as TestResponse;
    const problem = JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 });
    expect(() =>
      validator.check('GET', '/orders/x', answer(418, 'application/json', '{}')),
    ).toThrow(/does not list/);
    expect(() =>
      validator.check('GET', '/orders/x', answer(404, 'application/json', '{}')),
    ).toThrow(/not documented/);
    // A problem without its detail.
    expect(() =>
      validator.check('GET', '/orders/x', answer(404, 'application/problem+json', problem)),
    ).toThrow(/detail/);
    expect(() =>
      validator.check('GET', '/orders', answer(200, 'application/json', '{"items":[{}]}')),
    ).toThrow(/does not match/);
    // Every answer carries X-Correlation-Id; a 202 to POST /orders, Location too.
    expect(() =>
      validator.check('GET', '/orders', answer(200, 'application/json', '{}', {})),
    ).toThrow(/x-correlation-id/);
    expect(() => validator.check('POST', '/orders', answer(202, 'application/json', '{}'))).toThrow(
      /location/,
    );
    expect(validator.validated).toBe(0);
  });

  it('counts the answers it checked', async () => {
    const before = validatedResponses();
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    await settled(t.api, id);
    expect(validatedResponses()).toBeGreaterThan(before + 3);
  });
});

describe('AsyncAPI event catalog (/docs/asyncapi.json)', () => {
  let catalog: {
    channels: Record<
      string,
      { address: string; bindings: { amqp: { exchange: { name: string } } } }
    >;
    operations: Record<string, { action: string; channel: { $ref: string } }>;
    components: { messages: Record<string, { 'x-producer': string; 'x-subscribers': string[] }> };
  };

  beforeAll(async () => {
    catalog = (await servedDocument('/docs/asyncapi.json')) as typeof catalog;
  });

  it('is a valid AsyncAPI 3 document, without warnings', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(catalog));
    // Severity 0 is an error, 1 a warning: neither may be found.
    expect(diagnostics.filter((d) => d.severity <= 1).map((d) => d.message)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('lists every event type with its producer and subscribers', () => {
    const types = registeredEventTypes().map(({ type }) => type);
    expect(Object.keys(catalog.components.messages).sort()).toEqual([...types].sort());
    const subscribers = t.app.get(SubscriberRegistry).all();
    for (const type of types) {
      const message = catalog.components.messages[type];
      expect([type, message['x-producer']]).toEqual([type, expect.stringMatching(/^[a-z]+$/)]);
      expect([type, message['x-subscribers'].sort()]).toEqual([
        type,
        subscribers
          .filter((s) => s.eventTypes.includes(type))
          .map((s) => s.id)
          .sort(),
      ]);
      expect(catalog.channels[type].address).toBe(type);
      expect(catalog.channels[type].bindings.amqp.exchange.name).toBe(
        `${t.config.amqpPrefix}.events`,
      );
      expect(
        Object.values(catalog.operations).filter(
          (o) => o.action === 'send' && o.channel.$ref === `#/channels/${type}`,
        ),
      ).toHaveLength(1);
    }
  });

  it('describes payloads as the event log stores them', async () => {
    const id = await placeOrder(t.api, [{ productId: 'product-1', quantity: 1 }]);
    await settled(t.api, id);
    const events = (await t.api.get(`/orders/${id}/events`).expect(200)).body as Array<{
      type: string;
      payload: Record<string, unknown>;
    }>;
    const { Ajv } = await import('ajv');
    const addFormats = (await import('ajv-formats')).default;
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    const full = (await servedDocument('/docs/asyncapi.json')) as {
      components: { schemas: Record<string, object> };
    };
    for (const [name, schema] of Object.entries(full.components.schemas)) {
      ajv.addSchema(schema, `#/components/schemas/${name}`);
    }
    expect(events.length).toBeGreaterThan(3);
    for (const event of events) {
      const validate = ajv.compile(full.components.schemas[event.type]);
      expect([event.type, validate(event.payload), validate.errors ?? null]).toEqual([
        event.type,
        true,
        null,
      ]);
    }
  });
});
