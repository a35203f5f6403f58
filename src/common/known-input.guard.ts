import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { Request } from 'express';
import { RequestValidationError } from './problem.js';

/**
 * One rule for what a request sends, on every operation: what the operation does not document is
 * refused with 400. An operation that takes a query object or a body gets that from the
 * ValidationPipe (forbidNonWhitelisted); this guard refuses a query parameter sent to one that
 * takes none, and a body sent to one that takes none (rather than ignoring it).
 */
@Injectable()
export class KnownInputGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const args = Object.keys(
      (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), context.getHandler().name) ??
        {}) as Record<string, unknown>,
    );
    const takes = (type: RouteParamtypes) => args.some((key) => key.startsWith(`${type}:`));
    const request = context.switchToHttp().getRequest<Request>();
    if (!takes(RouteParamtypes.QUERY)) {
      const names = Object.keys(request.query ?? {});
      if (names.length > 0) {
        throw new RequestValidationError(
          names.map((name) => ({
            field: name,
            message: `${name} is not a parameter of this operation`,
          })),
        );
      }
    }
    // The body parser leaves `body` undefined when the request sends none.
    if (!takes(RouteParamtypes.BODY) && request.body !== undefined) {
      const message = 'this operation takes no request body';
      throw new RequestValidationError([{ field: '', message }], message);
    }
    return true;
  }
}
