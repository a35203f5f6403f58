import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeError, DomainError, isConnectionError } from '../durable-cqrs/index.js';
import { AuthError } from '../auth/auth.errors.js';
import { MAX_LISTED_PROBLEMS, RequestValidationError, type ProblemDetails } from './problem.js';

/** Every module's error codes and the HTTP status each one means. */
const STATUS_BY_CODE: Record<string, number> = {
  ORDER_NOT_FOUND: HttpStatus.NOT_FOUND,
  ORDER_NOT_CANCELLABLE: HttpStatus.CONFLICT,
  ORDER_CONCURRENT_UPDATE: HttpStatus.CONFLICT,
  ORDER_INVALID_CURSOR: HttpStatus.BAD_REQUEST,
  PRODUCT_NOT_FOUND: HttpStatus.NOT_FOUND,
  PRODUCT_PRECONDITION_FAILED: HttpStatus.PRECONDITION_FAILED,
  PRODUCT_STOCK_TOO_LOW: HttpStatus.CONFLICT,
  PRODUCT_PRICE_ABOVE_MAXIMUM: HttpStatus.BAD_REQUEST,
  DEAD_LETTER_NOT_FOUND: HttpStatus.NOT_FOUND,
  DEAD_LETTER_ALREADY_REPLAYED: HttpStatus.CONFLICT,
  IDEMPOTENCY_KEY_REUSED: HttpStatus.UNPROCESSABLE_ENTITY,
  IDEMPOTENCY_KEY_IN_FLIGHT: HttpStatus.CONFLICT,
  SERVICE_OVERLOADED: HttpStatus.SERVICE_UNAVAILABLE,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  TOO_MANY_STREAMS: HttpStatus.TOO_MANY_REQUESTS,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Retry-After of a 503 (the database could not be reached, or the service is overloaded) and of a
 * 429 that names no time of its own (a principal's streams).
 */
const RETRY_AFTER_SECONDS = 1;

/** Turns every error into an RFC 9457 application/problem+json answer. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<Request>(), http.getResponse<Response>());
  }

  /** Answers with the problem+json of an exception (also used outside Nest, by middleware). */
  respond(exception: unknown, request: Request, response: Response): void {
    const problem = this.toProblem(exception);
    problem.instance = request.originalUrl ?? request.url;
    if (exception instanceof AuthError && problem.status === 401) {
      response.setHeader('WWW-Authenticate', exception.challenge);
    }
    if (problem.status === 503) {
      // Not a bug: the database went away (restart, failover), or the service is at its backlog
      // limit. Nothing was done; ask again. Overload is counted, not logged per request.
      if (problem.code !== 'SERVICE_OVERLOADED') {
        this.logger.warn(`${request.method} ${problem.instance}: ${describeError(exception)}`);
      }
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    } else if (problem.status === 429 && !response.hasHeader('Retry-After')) {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    } else if (problem.status >= 500) {
      this.logger.error(
        `${request.method} ${problem.instance}: ${describeError(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof RequestValidationError) {
      const listed = exception.fieldProblems.slice(0, MAX_LISTED_PROBLEMS);
      const unlisted = exception.fieldProblems.length - listed.length;
      const detail = exception.detail ?? listed.map((p) => `${p.field}: ${p.message}`).join('; ');
      return {
        type: 'urn:problem:validation-error',
        title: 'Your request is not valid',
        status: 400,
        detail: unlisted > 0 ? `${detail}; and ${unlisted} more not listed` : detail,
        errors: listed,
      };
    }
    if (exception instanceof DomainError) {
      const status = STATUS_BY_CODE[exception.code] ?? HttpStatus.UNPROCESSABLE_ENTITY;
      return {
        ...exception.details,
        type: `urn:problem:${exception.code.toLowerCase().replace(/_/g, '-')}`,
        title: TITLES[status] ?? 'Error',
        status,
        detail: exception.message,
        code: exception.code,
      };
    }
    if (isConnectionError(exception)) {
      return {
        type: 'urn:problem:database-unavailable',
        title: TITLES[503],
        status: 503,
        detail:
          'The database could not be reached; the request was not carried out. Try again shortly.',
        code: 'DATABASE_UNAVAILABLE',
      };
    }
    const status = httpStatusOf(exception);
    if (status !== undefined && status < 500) {
      return {
        type: 'about:blank',
        title: TITLES[status] ?? 'Error',
        status,
        detail: httpDetailOf(exception, status),
      };
    }
    return {
      type: 'about:blank',
      title: TITLES[500],
      status: 500,
      detail: 'An unexpected error occurred',
    };
  }
}

/** Status of an HttpException, or of an Express/body-parser error (`status`, `statusCode`). */
function httpStatusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  if (exception && typeof exception === 'object') {
    const candidate =
      (exception as { status?: unknown; statusCode?: unknown }).status ??
      (exception as { statusCode?: unknown }).statusCode;
    if (typeof candidate === 'number' && candidate >= 400 && candidate < 600) return candidate;
  }
  return undefined;
}

function httpDetailOf(exception: unknown, status: number): string {
  const type = (exception as { type?: unknown }).type;
  if (type === 'entity.parse.failed') return 'The request body is not valid JSON';
  if (type === 'entity.too.large') return 'The request body is too large';
  if (type === 'encoding.invalid') return 'The request body is not valid UTF-8';
  if (type === 'charset.unsupported' || type === 'encoding.unsupported')
    return 'The request body encoding is not supported';
  if (status === 404 && exception instanceof HttpException) return 'No such resource';
  if (exception instanceof HttpException) {
    const body = exception.getResponse();
    if (typeof body === 'object' && body && 'message' in body) {
      const message = (body as { message: unknown }).message;
      return Array.isArray(message) ? message.join('; ') : String(message);
    }
    return exception.message;
  }
  return exception instanceof Error ? exception.message : 'The request could not be processed';
}
