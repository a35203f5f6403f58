import { applyDecorators } from '@nestjs/common';
import {
  ApiExtension,
  ApiOperation,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  type OpenAPIObject,
} from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem.filter.js';
import {
  closeSchemas,
  collectRefs,
  dropUnusedSchemas,
  fillSettings,
  typeNullableReferences,
} from './openapi-schemas.js';

/**
 * The OpenAPI contract, in one place: the problem+json schema every error answers with, the
 * decorators that attach it to operations, and `completeDocument`, which adds what decorators
 * cannot say (schemas shared by all operations, headers every answer carries, security).
 */

// The package does not export its OpenAPI types by name.
type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;
type ResponseObject = Exclude<OperationObject['responses'][string], { $ref: string } | undefined>;
type HeaderObject = Exclude<NonNullable<ResponseObject['headers']>[string], { $ref: string }>;
type SchemaOrRef = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
type ReferenceObject = Extract<SchemaOrRef, { $ref: string }>;
type SchemaObject = Exclude<SchemaOrRef, ReferenceObject>;

export const PROBLEM_SCHEMA = 'Problem';
const BEARER = 'bearer';
/** Set by `Public()`: an operation open to anyone (no security requirement). */
export const PUBLIC_EXTENSION = 'x-public';

const PROBLEM_SCHEMAS: Record<string, SchemaObject> = {
  FieldProblem: {
    type: 'object',
    required: ['field', 'message'],
    properties: {
      field: { type: 'string', example: 'items.0.quantity' },
      message: { type: 'string', example: 'quantity must not be less than 1' },
    },
  },
  [PROBLEM_SCHEMA]: {
    type: 'object',
    description:
      'RFC 9457 problem details. `code` names a domain error (ORDER_NOT_FOUND, ...); domain ' +
      'errors may add members of their own (such as `available` of PRODUCT_STOCK_TOO_LOW).',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string', example: 'urn:problem:order-not-found' },
      title: { type: 'string', example: 'Not Found' },
      status: { type: 'integer', minimum: 400, maximum: 599, example: 404 },
      detail: { type: 'string', example: 'Order 0193… was not found' },
      instance: { type: 'string', example: '/orders/0193…' },
      code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', example: 'ORDER_NOT_FOUND' },
      errors: {
        type: 'array',
        description: 'Invalid fields of a 400 (at most 20 listed)',
        maxItems: 20,
        items: { $ref: '#/components/schemas/FieldProblem' },
      },
    },
    additionalProperties: true,
  },
};

const RETRY_AFTER: HeaderObject = {
  required: true,
  description: 'Seconds to wait before asking again',
  schema: { type: 'integer', minimum: 0, example: 1 },
};

/** What each error status means, unless an operation says more. */
const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid: a body that is not a JSON object, or fields (see `errors`)',
  401: 'No valid bearer token',
  403: "The token's role or customer may not do this",
  404: 'No such resource (or not visible to this customer)',
  408: 'The request was not received in time (20 s for its headers, 30 s in all)',
  409: 'Conflicts with the current state',
  412: 'If-Match does not match the current ETag: nothing was changed',
  413: 'The request body is larger than 100 kB',
  415: 'The request body is not application/json',
  422: 'Understood but refused',
  429: 'Too many requests from this principal: wait Retry-After seconds',
  431: 'The request line and headers are larger than 16 KiB',
  503: 'The database is unreachable or the service is overloaded: nothing was done; retry after Retry-After seconds',
};

const PROBLEM_HEADERS: Record<number, Record<string, HeaderObject>> = {
  401: {
    'WWW-Authenticate': {
      required: true,
      description: 'The bearer challenge, with the reason the token was refused',
      schema: { type: 'string', example: 'Bearer realm="order-service", error="invalid_token"' },
    },
  },
  429: { 'Retry-After': RETRY_AFTER },
  503: { 'Retry-After': RETRY_AFTER },
};

/** A problem+json answer with the status's description and headers. */
function problemResponse(status: ProblemStatus, description?: string) {
  return {
    description: description ?? PROBLEM_DESCRIPTIONS[status],
    headers: PROBLEM_HEADERS[status],
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(PROBLEM_SCHEMA) } } },
  };
}

export type ProblemStatus =
  400 | 401 | 403 | 404 | 408 | 409 | 412 | 413 | 415 | 422 | 429 | 431 | 503;

/**
 * What any operation may answer before its handler runs: a body that is not a JSON object (400),
 * a request too slow (408), a body too large (413) or not JSON (415), headers over 16 KiB (431),
 * the database away or the service overloaded (503). An operation that requires a token adds 401
 * and 429.
 */
const ANY_OPERATION: ProblemStatus[] = [400, 408, 413, 415, 431, 503];

/**
 * Documents error answers as application/problem+json: `ApiProblems(404, [409, 'why'])`, with a
 * description of the operation's own. What every operation may answer (ANY_OPERATION, and 401
 * and 429 where a token is required) `completeDocument` adds where an operation does not list it.
 */
export function ApiProblems(
  ...statuses: Array<ProblemStatus | [ProblemStatus, string]>
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, undefined];
      return ApiResponse({ status, ...problemResponse(status, description) });
    }),
  );
}

/** The errors of every operation that takes a JSON body. */
export const ApiBodyProblems = (): MethodDecorator & ClassDecorator => ApiProblems(400, 413, 415);

/**
 * Extensions of a property's schema (`x-…` keys, which ApiProperty's options do not type), for
 * what JSON Schema cannot say: spread into the options, `...schemaExtensions({ 'x-unique-by':
 * 'productId' })`.
 */
export function schemaExtensions(values: Record<`x-${string}`, unknown>): object {
  return values;
}

/** Summary and description of an operation. */
export function ApiDoc(summary: string, description: string): MethodDecorator {
  return ApiOperation({ summary, description });
}

/** Marks operations open to anyone: `completeDocument` gives them no security requirement. */
export const ApiPublic = (): MethodDecorator & ClassDecorator =>
  ApiExtension(PUBLIC_EXTENSION, true);

/** The document's header: title, tags, the bearer scheme required by default. */
export function documentConfig(): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Order service')
    .setDescription(
      'Event-driven order processing: place orders, follow their status and history. ' +
        'Errors are RFC 9457 application/problem+json. Every operation except /health and ' +
        '/docs needs a bearer JWT (role `customer` or `admin`). Events: /docs/asyncapi.json.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This service')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 or RS256 JWT' },
      BEARER,
    )
    .addSecurityRequirements(BEARER)
    .addTag('orders', 'Place orders and follow them')
    .addTag('inventory', 'The catalog and its stock')
    .addTag('payments', 'Payments of orders')
    .addTag('notifications', 'Notices sent to customers')
    .addTag('admin', 'Operations for admins: dead letters, erasure')
    .addTag('health', 'Readiness')
    .build();
}

const CORRELATION_HEADER: HeaderObject = {
  required: true,
  description: 'The request X-Correlation-Id when valid, else a new one; events carry it',
  schema: { type: 'string', maxLength: 100, example: '3f0c8f0e-5f1e-4c43-9a7e-6c2b0e1d9a55' },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * What decorators cannot express, added to the generated document: the problem schemas; the
 * X-Correlation-Id header of every answer; what any operation may answer (ANY_OPERATION), and 401
 * and 429 on every one that requires a token; no security on public operations;
 * `additionalProperties: false` on every schema of a request body (the ValidationPipe refuses
 * unknown fields); a `type` beside every nullable reference (OpenAPI 3.0 reads `nullable` only
 * beside one); the running service's limits where a schema names a setting (`x-maximum:
 * 'MAX_UNIT_PRICE'` becomes that amount).
 */
export function completeDocument(
  document: OpenAPIObject,
  settings: Record<string, string> = {},
): OpenAPIObject {
  const components = (document.components ??= {});
  components.schemas = { ...components.schemas, ...PROBLEM_SCHEMAS };
  const requestSchemas = new Set<string>();
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as OperationObject | undefined;
      if (!operation) continue;
      const isPublic = operation[PUBLIC_EXTENSION as keyof OperationObject] === true;
      delete operation[PUBLIC_EXTENSION as keyof OperationObject];
      const common = problemResponses(isPublic ? ANY_OPERATION : [...ANY_OPERATION, 401, 429]);
      operation.responses = { ...operation.responses, ...withoutExisting(common, operation) };
      if (isPublic) operation.security = [];
      for (const response of Object.values(operation.responses) as ResponseObject[]) {
        if ('$ref' in response) continue;
        response.headers = { 'X-Correlation-Id': CORRELATION_HEADER, ...response.headers };
      }
      const body = operation.requestBody;
      if (body && !('$ref' in body)) {
        for (const media of Object.values(body.content)) {
          collectRefs(media.schema as SchemaOrRef | undefined, requestSchemas);
        }
      }
    }
  }
  closeSchemas(components.schemas, requestSchemas);
  typeNullableReferences(components.schemas);
  fillSettings(components.schemas, settings);
  dropUnusedSchemas(document);
  return document;
}

function problemResponses(statuses: ProblemStatus[]): OperationObject['responses'] {
  return Object.fromEntries(statuses.map((status) => [String(status), problemResponse(status)]));
}

function withoutExisting(
  responses: OperationObject['responses'],
  operation: OperationObject,
): OperationObject['responses'] {
  return Object.fromEntries(
    Object.entries(responses).filter(([status]) => !(status in operation.responses)),
  );
}
