import { pooledRandom } from './ids.js';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` is
 * `version-traceid-parentid-flags`, lowercase hex. The service takes part in the caller's trace
 * when its header is valid; otherwise it starts a new trace, as the specification advises.
 */
const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** The parts of a valid traceparent header, or undefined (the trace then restarts). */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (!header || header.length > 512) return undefined;
  const match = HEADER.exec(header);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is invalid; version 00 has exactly four fields. A later version may add fields,
  // which this version does not read.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent({ traceId, spanId, flags }: TraceParent): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/** A span of its own under the given parent (a traceparent header), or the root of a new trace. */
export function childTraceparent(parent: string | undefined | null): string {
  const spanId = Buffer.from(pooledRandom(8)).toString('hex');
  if (parent) return `00-${parent.slice(3, 35)}-${spanId}-${parent.slice(53, 55)}`;
  return `00-${Buffer.from(pooledRandom(16)).toString('hex')}-${spanId}-01`;
}

/** The trace id of a traceparent header this service wrote (or validated). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
