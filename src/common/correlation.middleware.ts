import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { messageContext } from '../messaging/message-context.js';

const HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Every request runs in a message context: its X-Correlation-Id (or a new one) becomes the
 * correlation id of every event it causes, and is echoed in the response.
 */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(HEADER);
  const correlationId = given && VALID.test(given) ? given : randomUUID();
  res.setHeader('X-Correlation-Id', correlationId);
  messageContext.run({ correlationId, causationId: null }, () => next());
}
