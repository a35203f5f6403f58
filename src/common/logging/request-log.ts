import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedRequest } from '../../auth/principal.js';
import { messageContext, traceIdOf } from '../../durable-cqrs/index.js';
import type { AppLogger } from './app-logger.js';

/**
 * One line per request, once it is answered (or the client went away): method, route template
 * (never the raw URL, which holds ids), status, duration, correlation and trace, and the `sub`
 * of a verified token (never the token). Installed only when the level `log` is on.
 */
export function requestLog(logger: AppLogger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const context = messageContext.store();
    res.once('close', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      logger.write(
        'log',
        'HTTP',
        {
          method: req.method,
          route: typeof route === 'string' ? req.baseUrl + route : null,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          ...(res.writableFinished ? {} : { aborted: true }),
          correlationId: context?.correlationId,
          traceId: context?.traceparent && traceIdOf(context.traceparent),
          sub: (req as AuthenticatedRequest).principal?.sub,
        },
        'request',
      );
    });
    next();
  };
}
