import { DomainError } from '../durable-cqrs/index.js';

/** A request without a valid bearer token (401), or whose principal may not do this (403). */
export class AuthError extends DomainError {
  static unauthenticated(reason?: string): AuthError {
    return new AuthError(
      'UNAUTHENTICATED',
      reason
        ? `Your bearer token was refused: ${reason}`
        : 'Send a bearer token: Authorization: Bearer <token>',
      reason ? 'invalid_token' : undefined,
    );
  }

  static forbidden(what: string): AuthError {
    return new AuthError('FORBIDDEN', `Your role does not allow you to ${what}`);
  }

  private constructor(
    code: 'UNAUTHENTICATED' | 'FORBIDDEN',
    message: string,
    /** RFC 6750 error code of the WWW-Authenticate challenge (none when no token was sent). */
    readonly tokenError?: string,
  ) {
    super(code, message);
  }

  /** The WWW-Authenticate header of a 401 answer. */
  get challenge(): string {
    return this.tokenError ? `Bearer error="${this.tokenError}"` : 'Bearer';
  }
}
