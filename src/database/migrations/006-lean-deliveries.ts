import type { Kysely, Migration } from 'kysely';

/**
 * Drops the index of deliveries by (status, seq): no query reads deliveries by status, and every
 * delivery writes its row, so the index only cost a page write per delivery.
 */
export const leanDeliveries: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('deliveries_status_idx').ifExists().execute();
  },
};
