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
