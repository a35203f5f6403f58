/**
 * Base of every module's error type. The code is stable and machine-readable; the exception
 * filter maps it to an HTTP status. Handlers throw these, never HttpException.
 */
export abstract class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
