import { AggregateRoot } from '@nestjs/cqrs';
import { TicketOpened, TicketTriaged } from './events.js';

export type TicketStatus = 'OPEN' | 'TRIAGED';

/** The aggregate: a ticket is opened, then triaged once. */
export class Ticket extends AggregateRoot {
  private constructor(
    readonly id: string,
    public status: TicketStatus,
    public queue: string | null,
    /** The revision stored; a save writes only over it. */
    readonly version: number,
  ) {
    super();
  }

  static open(id: string, subject: string, urgent: boolean): Ticket {
    const ticket = new Ticket(id, 'OPEN', null, 0);
    ticket.apply(new TicketOpened(id, subject, urgent));
    return ticket;
  }

  static stored(id: string, status: TicketStatus, queue: string | null, version: number): Ticket {
    return new Ticket(id, status, queue, version);
  }

  /** Puts an open ticket in a queue; a triaged one stays as it is (a command sent twice). */
  triage(queue: string): void {
    if (this.status !== 'OPEN') return;
    this.status = 'TRIAGED';
    this.queue = queue;
    this.apply(new TicketTriaged(this.id, queue));
  }
}
