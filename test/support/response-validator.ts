import { appendFileSync } from 'node:fs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  path: RegExp;
  /** Per status, per media type: the body validator (undefined: no schema). */
  responses: Map<string, Map<string, ValidateFunction | undefined>>;
  /** Per status, the headers the answer must carry. */
  requiredHeaders: Map<string, string[]>;
}

const SCHEMA_REF = '#/components/schemas/';
const SCHEMA_ID = 'urn:openapi:schema:';

/**
 * Checks answers against the OpenAPI document: the operation (method and path) must document
 * the status, the status the content type; the body must match its schema, and the required
 * headers be there. The document's
 * OpenAPI 3.0 schemas are turned into JSON Schema (`nullable`) and compiled once.
 */
export class ResponseValidator {
  private readonly operations: Operation[] = [];
  validated = 0;

  constructor(document: OpenAPIObject) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      ajv.addSchema(toJsonSchema(schema) as AnySchema, SCHEMA_ID + name);
    }
    for (const [template, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        const responses = (operation as { responses?: Json }).responses;
        if (!responses) continue;
        const byStatus = new Map<string, Map<string, ValidateFunction | undefined>>();
        const requiredHeaders = new Map<string, string[]>();
        for (const [status, response] of Object.entries(responses)) {
          const { content, headers } = response as {
            content?: Record<string, { schema?: Json }>;
            headers?: Record<string, { required?: boolean }>;
          };
          requiredHeaders.set(
            status,
            Object.entries(headers ?? {})
              .filter(([, header]) => header.required)
              .map(([name]) => name.toLowerCase()),
          );
          const byType = new Map<string, ValidateFunction | undefined>();
          for (const [type, media] of Object.entries(content ?? {})) {
            byType.set(
              type,
              media.schema ? ajv.compile(toJsonSchema(media.schema) as AnySchema) : undefined,
            );
          }
          byStatus.set(status, byType);
        }
        this.operations.push({
          method: method.toUpperCase(),
          template,
          path: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
          responses: byStatus,
          requiredHeaders,
        });
      }
    }
    // A literal segment wins over a parameter: /orders/{id} is not /orders/{id}/events.
    this.operations.sort((a, b) => paramsIn(a.template) - paramsIn(b.template));
  }

  /**
   * Throws when the answer is not one the document describes. Requests outside the document
   * (unknown routes, /docs) are not checked.
   */
  check(method: string, url: string, response: Response): void {
    const path = new URL(url, 'http://localhost').pathname;
    const operation = this.operations.find((o) => o.method === method && o.path.test(path));
    if (!operation) return;
    const where = `${method} ${path} (${operation.template}) answered ${response.status}`;
    const status = String(response.status);
    const media = operation.responses.get(status) ?? operation.responses.get('default');
    if (!media) {
      throw new Error(`${where}, a status the document does not list: ${response.text}`);
    }
    const headers = response.headers as Record<string, string | undefined>;
    const missing = (operation.requiredHeaders.get(status) ?? []).filter((h) => !(h in headers));
    if (missing.length > 0) throw new Error(`${where} without the header(s) ${missing.join(', ')}`);
    const type = (headers['content-type'] ?? '').split(';')[0].trim();
    if (media.size > 0 || type) {
      if (!media.has(type)) {
        throw new Error(`${where} as ${type || 'no content'}, not documented for this status`);
      }
      const validate = media.get(type);
      if (validate && type.endsWith('json')) {
        const body = response.text ? (JSON.parse(response.text) as unknown) : undefined;
        if (!validate(body)) {
          throw new Error(
            `${where} with a body that does not match the document: ` +
              `${JSON.stringify(validate.errors)}\nbody: ${response.text}`,
          );
        }
      }
    }
    this.validated++;
  }
}

function paramsIn(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

/** OpenAPI 3.0 schema to JSON Schema: `nullable`, and component references by id. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const result: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF)) {
      result.$ref = SCHEMA_ID + value.slice(SCHEMA_REF.length);
    } else if (key === 'properties') {
      result.properties = Object.fromEntries(
        Object.entries(value as Json).map(([name, property]) => [name, toJsonSchema(property)]),
      );
    } else if (key !== 'nullable' && key !== 'example' && key !== 'examples') {
      result[key] = toJsonSchema(value);
    }
  }
  if ((schema as Json).nullable !== true) return result;
  return { anyOf: [result, { type: 'null' }] };
}

/** Where the run's count of validated answers is added, a line per test file. */
export const COUNT_FILE_VARIABLE = 'CONTRACT_COUNT_FILE';

/** Adds this file's count to the run's (see test/support/run-reporter.js). */
export function recordValidatedCount(file: string, count: number): void {
  const target = process.env[COUNT_FILE_VARIABLE];
  if (target && count > 0) appendFileSync(target, `${count} ${file}\n`);
}
