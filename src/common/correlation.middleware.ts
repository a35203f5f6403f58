import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import {
  childTraceparent,
  formatTraceparent,
  messageContext,
  parseTraceparent,
} from '../durable-cqrs/index.js';

const HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Every request runs in a message context: its X-Correlation-Id (or a new one) becomes the
 * correlation id of every event it causes, and is echoed in the response. Its W3C traceparent,
 * when valid, makes the request a span of the caller's trace; an invalid or missing one starts a
 * new trace (the specification's advice, rather than refusing the request). The request's own
 * span is answered in a `traceparent` header, and is the parent of the events it causes.
 */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(HEADER);
  const correlationId = given && VALID.test(given) ? given : randomUUID();
  const parent = parseTraceparent(req.header('traceparent'));
  const traceparent = childTraceparent(parent && formatTraceparent(parent));
  res.setHeader('X-Correlation-Id', correlationId);
  res.setHeader('traceparent', traceparent);
  messageContext.run({ correlationId, causationId: null, traceparent }, () => next());
}
