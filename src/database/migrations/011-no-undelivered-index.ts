import type { Kysely, Migration } from 'kysely';

/**
 * Since migration 010 the in-process consumer keeps a checkpoint and never marks an event
 * delivered, so the partial index of undelivered events (005) held every event and served no
 * query: each event insert paid for it. Dropped. (The index of unrelayed events stays: the relay
 * to a broker reads it.)
 */
export const noUndeliveredIndex: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('event_log_undelivered_idx').ifExists().execute();
  },
};
