import { Logger } from '@nestjs/common';

/** The levels of the runtime's lines. */
export type RuntimeLogLevel = 'debug' | 'log' | 'warn' | 'error';

/**
 * Where the runtime writes its lines made of fields (one per delivery: subscriber, event,
 * outcome, attempts, duration, correlation and trace): the application's logger, provided under
 * this token (this service: its AppLogger, pino).
 */
export abstract class RuntimeLogger {
  /** Whether a line at this level would be written: checked before the fields are built. */
  abstract isEnabled(level: RuntimeLogLevel): boolean;
  abstract write(level: RuntimeLogLevel, context: string, fields: object, msg: string): void;
}

/**
 * A RuntimeLogger on Nest's Logger, for an application without a logger of its own: each line is
 * its message followed by its fields as JSON.
 */
export class NestRuntimeLogger extends RuntimeLogger {
  constructor(private readonly levels: readonly RuntimeLogLevel[] = ['log', 'warn', 'error']) {
    super();
  }

  isEnabled(level: RuntimeLogLevel): boolean {
    return this.levels.includes(level);
  }

  write(level: RuntimeLogLevel, context: string, fields: object, msg: string): void {
    if (this.isEnabled(level)) new Logger(context)[level](`${msg} ${JSON.stringify(fields)}`);
  }
}
