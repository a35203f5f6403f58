import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './metrics.js';

/** The route label of a request that matched no route (404s, bodies refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every request to its last byte and records it by route template (`/orders/:id`, never the
 * raw URL, whose ids would make a label value per order) and status. Mounted first, so answers
 * given before routing (a refused body, back-pressure) are timed too.
 */
export function httpMetricsMiddleware(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      metrics.httpDuration.observe(
        {
          method: req.method,
          route: route === undefined ? UNMATCHED_ROUTE : req.baseUrl + route,
          status: res.statusCode,
        },
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}
