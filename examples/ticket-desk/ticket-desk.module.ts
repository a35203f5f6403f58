import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DurableCqrsModule, type RuntimeOptions } from '../../src/durable-cqrs/index.js';
import { TICKET_MIGRATIONS, TicketRepository } from './ticket.repository.js';
import {
  Acknowledger,
  MailServer,
  OpenTicketHandler,
  TriageSaga,
  TriageTicketHandler,
} from './tickets.js';

/** The runtime's settings this application starts from; `forRoot` takes what it changes. */
const DEFAULTS = {
  databaseUrl: 'sqlite:./data/tickets.db',
  databasePoolSize: 10,
  sqliteSynchronous: 'NORMAL',
  amqpUrl: '',
  amqpPrefix: 'tickets',
  amqpPrefetch: 64,
  retryMaxAttempts: 10,
  retryBaseDelayMs: 100,
  dispatchConcurrency: 32,
  dispatchBatchSize: 200,
  dispatchPollMs: 1000,
  backlogLimit: 5000,
  shutdownTimeoutMs: 5000,
  streamPollMs: 500,
} satisfies RuntimeOptions;

/**
 * A small help desk on the durable runtime: tickets are opened (a command), triaged by a saga,
 * and acknowledged by an event handler. It imports the runtime through its public entry only.
 */
@Module({})
export class TicketDeskModule {
  static forRoot(options: Partial<typeof DEFAULTS> = {}): DynamicModule {
    return {
      module: TicketDeskModule,
      imports: [
        CqrsModule.forRoot(),
        DurableCqrsModule.forRoot({
          options: { ...DEFAULTS, ...options },
          migrations: TICKET_MIGRATIONS,
        }),
      ],
      providers: [
        TicketRepository,
        OpenTicketHandler,
        TriageTicketHandler,
        TriageSaga,
        MailServer,
        Acknowledger,
      ],
    };
  }
}
