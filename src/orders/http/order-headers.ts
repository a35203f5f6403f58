import { ApiHeader } from '@nestjs/swagger';
import { canonicalJson, sha256 } from '../../common/canonical-json.js';
import { MAX_PREFERRED_WAIT_SECONDS } from '../../common/prefer.js';
import { RequestValidationError } from '../../common/problem.js';
import { TERMINAL_STATUSES } from '../domain/order-status.js';

/**
 * The request and response headers of the orders' endpoints beyond the usual ones: how each is
 * read, and how the OpenAPI document describes it.
 */

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** A Last-Event-ID this service sent: an event's global sequence number. */
const LAST_EVENT_ID = /^\d{1,15}$/;

/**
 * The idempotency of a request to place an order: its Idempotency-Key with the hash of its body
 * (the same key with another body is refused later), or undefined without a key. A malformed key
 * is a 400.
 */
export function idempotencyOf(
  key: string | undefined,
  body: unknown,
): { key: string; requestHash: string } | undefined {
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new RequestValidationError([
      {
        field: 'Idempotency-Key',
        message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
      },
    ]);
  }
  return { key, requestHash: sha256(canonicalJson(body)) };
}

/** The seq an event stream resumes after: Last-Event-ID if it is one this service sent, else 0. */
export function resumeAfter(lastEventId: string | undefined): number {
  const id = lastEventId?.trim();
  return id !== undefined && LAST_EVENT_ID.test(id) ? Number(id) : 0;
}

export const ApiPreferHeader = () =>
  ApiHeader({
    name: 'Prefer',
    required: false,
    schema: { type: 'string', example: 'wait=10' },
    description:
      `RFC 7240. \`wait=N\` (N an integer from 1; more than ${MAX_PREFERRED_WAIT_SECONDS} counts ` +
      `as ${MAX_PREFERRED_WAIT_SECONDS}): wait up to N seconds for a terminal status ` +
      `(${TERMINAL_STATUSES.slice(0, -1).join(', ')} or ${TERMINAL_STATUSES.at(-1)}). ` +
      'A malformed preference is ignored. Honoured preferences ' +
      'are echoed in `Preference-Applied`.',
  });

export const ApiIdempotencyKeyHeader = () =>
  ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, maxLength: 255 },
    description:
      'Repeat a request safely: the same key and body return the first response again; ' +
      'another body gets 422; while the first is in flight, 409. A key belongs to the caller ' +
      'and replays for IDEMPOTENCY_KEY_TTL_MS (24 h by default); after that it places a new order.',
  });

export const ApiLastEventIdHeader = () =>
  ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    schema: { type: 'string', example: '41' },
    description: 'Resume: only events after this seq are sent (anything else is ignored)',
  });

/** The headers of an answer to POST /orders. */
export const PLACED_ORDER_HEADERS = {
  Location: {
    required: true,
    description: 'Where to follow the order: /orders/{id}',
    schema: { type: 'string', example: '/orders/01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' },
  },
  'Idempotent-Replayed': {
    description: 'Present (`true`) when this is the stored answer to an earlier request',
    schema: { type: 'string', enum: ['true'] },
  },
  'Preference-Applied': {
    description: '`wait=N` when the request waited (Prefer: wait)',
    schema: { type: 'string', example: 'wait=10' },
  },
};
