import { DomainEvent, EventType } from '../../src/durable-cqrs/index.js';

/** A customer opened a ticket. */
@EventType('TicketOpened')
export class TicketOpened extends DomainEvent {
  constructor(
    readonly ticketId: string,
    readonly subject: string,
    readonly urgent: boolean,
  ) {
    super();
  }

  get streamId(): string {
    return this.ticketId;
  }
}

/** The ticket was put in a queue. */
@EventType('TicketTriaged')
export class TicketTriaged extends DomainEvent {
  constructor(
    readonly ticketId: string,
    readonly queue: string,
  ) {
    super();
  }

  get streamId(): string {
    return this.ticketId;
  }
}
