import { Command } from '@nestjs/cqrs';

/**
 * Base of commands sent by sagas and controllers. The dispatcher stamps correlation and causation
 * (the event that led to the command) when a saga emits it; the request context supplies them for
 * commands sent from HTTP. R is the command's result type.
 */
export abstract class TracedCommand<R = void> extends Command<R> {
  correlationId?: string;
  causationId?: string | null;
}
