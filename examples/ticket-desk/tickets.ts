import { Injectable } from '@nestjs/common';
import {
  CommandHandler,
  EventsHandler,
  ofType,
  Saga,
  type ICommand,
  type ICommandHandler,
  type IEvent,
  type IEventHandler,
} from '@nestjs/cqrs';
import { sql } from 'kysely';
import { map, type Observable } from 'rxjs';
import { UnitOfWork } from '../../src/durable-cqrs/index.js';
import { TicketOpened, TicketTriaged } from './events.js';
import { Ticket } from './ticket.js';
import { TicketRepository } from './ticket.repository.js';

export class OpenTicket implements ICommand {
  constructor(
    readonly ticketId: string,
    readonly subject: string,
    readonly urgent: boolean,
  ) {}
}

export class TriageTicket implements ICommand {
  constructor(
    readonly ticketId: string,
    readonly queue: string,
  ) {}
}

@CommandHandler(OpenTicket)
export class OpenTicketHandler implements ICommandHandler<OpenTicket> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketRepository,
  ) {}

  execute({ ticketId, subject, urgent }: OpenTicket): Promise<void> {
    return this.uow.transaction((tx) =>
      this.tickets.save(tx, Ticket.open(ticketId, subject, urgent)),
    );
  }
}

@CommandHandler(TriageTicket)
export class TriageTicketHandler implements ICommandHandler<TriageTicket> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tickets: TicketRepository,
  ) {}

  execute({ ticketId, queue }: TriageTicket): Promise<void> {
    return this.uow.transaction(async (tx) => {
      const ticket = await this.tickets.find(tx, ticketId);
      if (!ticket) throw new Error(`No ticket ${ticketId}`);
      ticket.triage(queue);
      await this.tickets.save(tx, ticket);
    });
  }
}

/** The saga: an opened ticket is triaged, urgent ones to the first line. */
@Injectable()
export class TriageSaga {
  @Saga()
  opened = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(TicketOpened),
      map((e) => new TriageTicket(e.ticketId, e.urgent ? 'first-line' : 'backlog')),
    );
}

/**
 * The mail server the acknowledgements go through. Simulated: it records nothing itself, and
 * the test switches it off (`up = false`) to hold the workflow at its last step.
 */
@Injectable()
export class MailServer {
  up = true;
}

/** The handler: a triaged ticket's customer gets one acknowledgement (a row in its table). */
@EventsHandler(TicketTriaged)
export class Acknowledger implements IEventHandler<TicketTriaged> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly mail: MailServer,
  ) {}

  async handle({ ticketId, queue }: TicketTriaged): Promise<void> {
    if (!this.mail.up) throw new Error('The mail server is down');
    await this.uow.transaction((tx) =>
      sql`INSERT INTO acknowledgements (ticket_id, queue) VALUES (${ticketId}, ${queue})`.execute(
        tx.db,
      ),
    );
  }
}
