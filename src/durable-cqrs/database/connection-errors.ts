import pg from 'pg';

/**
 * True for errors that say the database could not be reached or dropped the connection (a
 * restart, a failover, a network cut), as opposed to errors of the work itself. Such failures are
 * retried without using up a delivery's attempts: nothing was wrong with the delivery.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Node network errors, and PostgreSQL's admin shutdown, crash shutdown, cannot connect now,
    // and connection exceptions (class 08).
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code))
      return true;
    if (['57P01', '57P02', '57P03'].includes(code) || code.startsWith('08')) return true;
  }
  return /Connection terminated|connection (is )?closed|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * PostgreSQL refused a transaction for what ran beside it, not for its own work: a deadlock
 * (40P01) or a serialization failure (40001). The transaction can run again as it is.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** A statement refused because an earlier one of the same transaction failed (25P02). */
export function followsAnotherFailure(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25P02';
}

/** An error PostgreSQL answered a statement with, as opposed to one of the code itself. */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof pg.DatabaseError;
}
