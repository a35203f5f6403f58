import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Every stored thing gets an owner and a lifetime.
 *
 * - Idempotency keys belong to a principal: the key is unique per (principal, key), so one client
 *   can no longer take another's key. A key expires IDEMPOTENCY_KEY_TTL_MS after `created_at`
 *   (indexed, for the retention job). Keys stored before belong to `anonymous`.
 * - A customer's erasure is remembered (`customer_erasures`), so a notification raised before it
 *   is not sent to the erased address afterwards; a notification skipped says why (`skip_reason`).
 *
 * The key table is rebuilt (SQLite cannot change a primary key in place); the same statements
 * run on PostgreSQL.
 */
export const dataLifecycle: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('idempotency_keys_scoped')
      .addColumn('principal', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_scoped_pk', ['principal', 'key'])
      .execute();
    await sql`INSERT INTO idempotency_keys_scoped (principal, key, request_hash, state,
        response_status, response_body, created_at, updated_at)
      SELECT 'anonymous', key, request_hash, state, response_status, response_body, created_at,
        updated_at FROM idempotency_keys`.execute(db);
    await db.schema.dropTable('idempotency_keys').execute();
    await db.schema.alterTable('idempotency_keys_scoped').renameTo('idempotency_keys').execute();
    await db.schema
      .createIndex('idempotency_keys_created_idx')
      .on('idempotency_keys')
      .column('created_at')
      .execute();

    await db.schema
      .createTable('customer_erasures')
      .addColumn('customer_id', 'text', (c) => c.primaryKey())
      .addColumn('erased_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('notifications').addColumn('skip_reason', 'text').execute();
  },
};
