import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Two facts where there was one: `dispatched` meant "delivered to every subscriber" with the
 * in-process dispatcher and "published to the broker" with RabbitMQ. Now `delivered` is set by
 * the dispatcher and `relayed` by the relay, each with a partial index of the events still
 * waiting for it.
 *
 * An existing row marked dispatched was either delivered or relayed, depending on how the
 * service ran; either way it needs neither again: the dispatcher must not poll it, and the relay
 * must not send the broker an event that every subscriber already had. So it becomes delivered
 * and relayed; a row not dispatched becomes neither, and is handed on by whichever runs next.
 */
export const deliveredAndRelayed: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('event_log_undispatched_idx').execute();
    await db.schema.alterTable('event_log').renameColumn('dispatched', 'delivered').execute();
    await db.schema
      .alterTable('event_log')
      .addColumn('relayed', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`UPDATE event_log SET relayed = 1 WHERE delivered = 1`.execute(db);
    await db.schema
      .createIndex('event_log_undelivered_idx')
      .on('event_log')
      .column('seq')
      .where(sql.ref('delivered'), '=', 0)
      .execute();
    await db.schema
      .createIndex('event_log_unrelayed_idx')
      .on('event_log')
      .column('seq')
      .where(sql.ref('relayed'), '=', 0)
      .execute();
  },
};
