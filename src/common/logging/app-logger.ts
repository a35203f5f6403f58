import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger as Pino } from 'pino';
import { messageContext, traceIdOf } from '../../durable-cqrs/index.js';
import { prettyDestination } from './pretty-destination.js';

/** The levels of LOG_LEVEL (Nest's names), least severe first. */
export type LogLevelName = 'debug' | 'log' | 'warn' | 'error';

/** Nest's levels in pino's terms: `log` is pino's `info`, `verbose` its `trace`. */
const PINO_LEVEL = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
} as const satisfies Record<string, Level>;

/**
 * Whatever the code may be handed by mistake that must never reach a log line: tokens, secrets,
 * the Authorization header (lines are written from fields the code chooses, so this is a net).
 */
const REDACTED = [
  'authorization',
  'token',
  'secret',
  'password',
  'jwtSecret',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.jwtSecret',
  'headers.authorization',
  'req.headers.authorization',
];

/** A stack as Nest passes it to `error` (its console logger tells one from a context the same way). */
const STACK = /^(.)+\n\s+at .+:\d+:\d+/;

export interface AppLoggerOptions {
  level: LogLevelName;
  /** Where lines go (tests capture them); stdout by default. */
  destination?: DestinationStream;
  /** One human line per entry instead of JSON (development). */
  pretty?: boolean;
}

/**
 * Every log line of the service, Nest's `Logger` calls included, as one JSON object on a line:
 * `level` (pino's name), `time` (ISO 8601), `context` (the class), `msg`, and, for code running
 * for a request or an event, its `correlationId` and `traceId` (taken from the message context).
 * Lines under the level are dropped before anything is formatted.
 */
export class AppLogger implements LoggerService {
  readonly pino: Pino;

  constructor(options: AppLoggerOptions) {
    this.pino = pino(
      {
        level: PINO_LEVEL[options.level],
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACTED, censor: '[redacted]' },
        mixin: contextFields,
      },
      options.destination ?? (options.pretty ? prettyDestination(process.stdout) : undefined),
    );
  }

  /** Whether a line at this level would be written: check it before computing costly fields. */
  isEnabled(level: keyof typeof PINO_LEVEL): boolean {
    return this.pino.isLevelEnabled(PINO_LEVEL[level]);
  }

  /** One line made of fields (the request and delivery lines). */
  write(level: LogLevelName, context: string, fields: object, msg: string): void {
    this.pino[PINO_LEVEL[level]]({ context, ...fields }, msg);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.entry('info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.entry('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.entry('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.entry('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.entry('fatal', message, params);
  }

  /** Nest calls `error(message, stack?, context?)`. */
  error(message: unknown, ...params: unknown[]): void {
    if (!this.pino.isLevelEnabled('error')) return;
    let stack: string | undefined;
    if (params.length >= 2 && (typeof params[0] === 'string' || params[0] === undefined)) {
      stack = params.shift() as string | undefined;
    } else if (params.length === 1 && typeof params[0] === 'string' && STACK.test(params[0])) {
      stack = params.shift() as string;
    }
    this.entry('error', message, params, stack);
  }

  private entry(level: Level, message: unknown, params: unknown[], stack?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // Nest appends the context (the class name) as the last parameter.
    const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = { context };
    for (const extra of params)
      if (extra && typeof extra === 'object') Object.assign(fields, extra);
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (message && typeof message === 'object') {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : undefined);
    } else {
      this.pino[level](fields, String(message));
    }
  }
}

/** The correlation and trace of the request or event the code runs for, on every line. */
function contextFields(): object {
  const context = messageContext.store();
  if (!context) return {};
  return context.traceparent
    ? { correlationId: context.correlationId, traceId: traceIdOf(context.traceparent) }
    : { correlationId: context.correlationId };
}
