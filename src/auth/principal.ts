import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

export type Role = 'customer' | 'admin';

/** Who sent a request: the `sub` and `role` claims of its bearer token. */
export interface Principal {
  readonly sub: string;
  readonly role: Role;
  /**
   * The whole identity: role, subject and issuer (`iss`, when the token has one). What is kept
   * per principal (a rate-limit bucket, the scope of idempotency keys) is keyed by it, so a
   * customer whose `sub` equals an admin's shares nothing with that admin.
   */
  readonly id: string;
}

/** A principal's id: a subject has no spaces, so role, subject and issuer never run together. */
export function principalId(role: Role, sub: string, issuer = ''): string {
  return issuer ? `${role} ${sub} ${issuer}` : `${role} ${sub}`;
}

/**
 * Subjects with this prefix are admins' only: a customer token naming one is refused, so the
 * admin tokens `npm run token` mints (`admin:local`) have a subject no customer can take.
 */
export const ADMIN_SUBJECT_PREFIX = 'admin:';

/** The request as the auth guard leaves it: its principal, once the token is verified. */
export interface AuthenticatedRequest {
  principal?: Principal;
}

/**
 * The principal of the request, in a controller method: `@CurrentPrincipal() who: Principal`.
 * The auth guard runs before every handler and refuses a request without a valid token (except
 * on open routes), so a guarded handler always gets one.
 */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);

/** Whether the principal may act for this customer (itself, or any customer for an admin). */
export function mayActFor(principal: Principal, customerId: string): boolean {
  return principal.role === 'admin' || principal.sub === customerId;
}
