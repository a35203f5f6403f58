import type { Kysely, Migration } from 'kysely';

/** The simulated gateway's count of calls per idempotency key, shared by every instance. */
export const gatewayCalls: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gateway_calls')
      .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .execute();
  },
};
