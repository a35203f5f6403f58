import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import {
  ACTIVE_STATUSES,
  ORDER_STATUSES,
  TERMINAL_STATUSES,
} from '../orders/domain/order-status.js';

/**
 * The order lifecycle as an ES module for the console's pages, written from
 * orders/domain/order-status.ts when the service starts. The console's files are static modules
 * a browser loads as they are, with no bundler that could read TypeScript; a module written by
 * the build would be a second copy to keep in step (and missing wherever that step did not run,
 * as under Jest). Served by the service, it is always the lifecycle the service itself runs.
 */
export const LIFECYCLE_SCRIPT =
  '// The order lifecycle, written by the service from its own definition.\n' +
  `export const STATUSES = ${JSON.stringify(ORDER_STATUSES)};\n` +
  `export const ACTIVE = new Set(${JSON.stringify(ACTIVE_STATUSES)});\n` +
  `export const TERMINAL = new Set(${JSON.stringify(TERMINAL_STATUSES)});\n`;

/** The module's strong ETag: a hash of its text. */
const LIFECYCLE_ETAG = `"${createHash('sha256').update(LIFECYCLE_SCRIPT).digest('base64url').slice(0, 22)}"`;

/**
 * Answers the lifecycle module, cached like the console's other files: `no-cache`, and an ETag of
 * its text, so a browser gets a 304 while the service runs the same lifecycle.
 */
export const sendLifecycleScript: RequestHandler = (_request, response) => {
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('ETag', LIFECYCLE_ETAG);
  response.type('text/javascript').send(LIFECYCLE_SCRIPT);
};
