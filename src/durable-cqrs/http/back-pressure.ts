import type { NextFunction, Request, Response } from 'express';
import type { MessagingRuntime } from '../messaging-runtime.js';

/**
 * Express middleware that refuses the requests `applies` picks while the runtime's backlog is
 * over its limit (the runtime's OverloadedError, passed on to the application's error handling:
 * a 503). Mount it before the body parsers, so a refused request costs next to nothing; the
 * application says which requests add work (those that start a workflow, say).
 */
export function backPressure(runtime: MessagingRuntime, applies: (req: Request) => boolean) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!applies(req)) return next();
    try {
      runtime.assertAcceptingWork();
    } catch (error) {
      return next(error);
    }
    next();
  };
}
