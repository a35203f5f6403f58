import { Injectable } from '@nestjs/common';
import { sql, type Migration } from 'kysely';
import { type DomainEvent, EventStore, type Tx } from '../../src/durable-cqrs/index.js';
import { Ticket, type TicketStatus } from './ticket.js';

/** The application's own tables, created by the runtime's migrator (DurableCqrsSetup.migrations). */
export const TICKET_MIGRATIONS: Record<string, Migration> = {
  '001-tickets': {
    async up(db) {
      await sql`CREATE TABLE tickets (
        id text PRIMARY KEY, status text NOT NULL, queue text, version integer NOT NULL)`.execute(
        db,
      );
      // One row per acknowledgement sent; no key on ticket_id, so a second one would show.
      await sql`CREATE TABLE acknowledgements (ticket_id text NOT NULL, queue text NOT NULL)`.execute(
        db,
      );
    },
  },
};

/**
 * Tickets in their table, their events in the runtime's log, in the caller's unit of work: the
 * row and the events commit together or not at all. A save writes only over the version it read,
 * so of two units that triage one ticket at once, one changes nothing.
 */
@Injectable()
export class TicketRepository {
  constructor(private readonly events: EventStore) {}

  async find(tx: Tx, id: string): Promise<Ticket | undefined> {
    const { rows } = await sql<{ status: TicketStatus; queue: string | null; version: number }>`
      SELECT status, queue, version FROM tickets WHERE id = ${id}`.execute(tx.db);
    const row = rows[0];
    return row && Ticket.stored(id, row.status, row.queue, Number(row.version));
  }

  async save(tx: Tx, ticket: Ticket): Promise<void> {
    const events = ticket.getUncommittedEvents() as DomainEvent[];
    if (events.length === 0) return;
    const written =
      ticket.version === 0
        ? await sql`INSERT INTO tickets (id, status, queue, version)
            VALUES (${ticket.id}, ${ticket.status}, ${ticket.queue}, 1)
            ON CONFLICT (id) DO NOTHING`.execute(tx.db)
        : await sql`UPDATE tickets SET status = ${ticket.status}, queue = ${ticket.queue},
            version = version + 1 WHERE id = ${ticket.id} AND version = ${ticket.version}`.execute(
            tx.db,
          );
    if (Number(written.numAffectedRows ?? 0) === 0) return;
    await this.events.append(tx, events, {
      streamId: ticket.id,
      aggregateType: 'Ticket',
      aggregateId: ticket.id,
      aggregateVersion: ticket.version + 1,
    });
    // Stored, and so delivered by the runtime: nothing is published in memory.
    ticket.uncommit();
  }
}
