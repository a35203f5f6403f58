import {
  applyDecorators,
  Inject,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiProblems, ApiPublic } from '../common/openapi.js';
import { AuthError } from './auth.errors.js';
import type { AuthenticatedRequest, Role } from './principal.js';
import { InvalidToken, type VerifyToken } from './token-verifier.js';

export const VERIFY_TOKEN = Symbol('VERIFY_TOKEN');

const PUBLIC = 'auth:public';
const ROLES = 'auth:roles';

/** A route anyone may call, without a token (health checks). */
export const Public = () => applyDecorators(SetMetadata(PUBLIC, true), ApiPublic());

/** Only these roles may call the route (or every route of the controller). */
export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(ROLES, roles),
    ApiProblems([403, `Only for the role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`]),
  );

export function isPublic(reflector: Reflector, context: ExecutionContext): boolean {
  return (
    reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()]) ===
    true
  );
}

interface GuardedRequest extends Request, AuthenticatedRequest {
  /** Why the token sent was refused. */
  tokenProblem?: string;
}

const BEARER = /^Bearer +([A-Za-z0-9_.~+/-]+=*) *$/i;

/**
 * First of the three guards that run before every route: reads the bearer token, if any, and
 * sets the request's principal. It refuses nothing itself, so that the rate limit (the second)
 * also counts requests with bad tokens, by IP address; the third decides.
 */
@Injectable()
export class AuthenticateGuard implements CanActivate {
  constructor(@Inject(VERIFY_TOKEN) private readonly verify: VerifyToken) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const header = request.headers.authorization;
    if (header === undefined) return true;
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      request.tokenProblem = 'the Authorization header must be "Bearer <token>"';
      return true;
    }
    try {
      request.principal = await this.verify(token);
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      request.tokenProblem = error.message;
    }
    return true;
  }
}

/** Refuses a request without a valid token (401) or whose role the route does not allow (403). */
@Injectable()
export class AuthorizeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (isPublic(this.reflector, context)) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (!request.principal) throw AuthError.unauthenticated(request.tokenProblem);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (roles && !roles.includes(request.principal.role)) {
      throw AuthError.forbidden(`${request.method} ${request.route?.path ?? request.path}`);
    }
    return true;
  }
}
