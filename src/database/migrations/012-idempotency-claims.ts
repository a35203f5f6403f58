import type { Kysely, Migration } from 'kysely';

/**
 * An idempotency key's claim names the request that holds it (a random token), so that a claim
 * taken over after its lease (its request's process died) can no longer complete: the request
 * that took it over places the order, the one that lost it fails. Claims of an earlier release
 * have none and are taken over as before, after the lease.
 */
export const idempotencyClaims: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('idempotency_keys').addColumn('claim', 'text').execute();
  },
};
