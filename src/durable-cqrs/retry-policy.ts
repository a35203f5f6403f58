import { Injectable } from '@nestjs/common';
import { describeError } from './describe-error.js';
import { RuntimeOptions } from './runtime-options.js';
import { isConnectionError } from './database/connection-errors.js';
import type { DeliveryStatus } from './database/tables.js';

/** How long a delivery waits when the database could not be reached. */
export const DATABASE_WAIT_MS = 1000;

/** What a delivery came to. */
export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  /** RETRY: when the next attempt is due. */
  notBefore?: number;
  error?: string | null;
}

/**
 * When a failed delivery is tried again, and when it becomes a dead letter: RETRY_MAX_ATTEMPTS
 * attempts, apart by an exponential backoff with jitter from RETRY_BASE_DELAY_MS. The same for
 * both transports.
 */
@Injectable()
export class RetryPolicy {
  constructor(private readonly config: RuntimeOptions) {}

  /**
   * The outcome of a failed attempt: RETRY with a backoff, or DEAD after the last attempt. A lost
   * database connection does not count as an attempt: the delivery waits for the database.
   */
  failure(previousAttempts: number, error: unknown): DeliveryOutcome {
    const message = describeError(error);
    if (isConnectionError(error)) {
      return {
        status: 'RETRY',
        attempts: previousAttempts,
        notBefore: Date.now() + DATABASE_WAIT_MS,
        error: message,
      };
    }
    const attempts = previousAttempts + 1;
    if (attempts >= this.config.retryMaxAttempts)
      return { status: 'DEAD', attempts, error: message };
    return {
      status: 'RETRY',
      attempts,
      notBefore: Date.now() + this.backoff(attempts),
      error: message,
    };
  }

  /** Exponential backoff with jitter: between half and all of base * 2^(attempt-1). */
  backoff(attempt: number): number {
    const step = this.config.retryBaseDelayMs * 2 ** (attempt - 1);
    return Math.round(step / 2 + Math.random() * (step / 2));
  }
}
