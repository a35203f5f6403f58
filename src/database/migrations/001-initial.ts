import { sql, type Kysely, type Migration } from 'kysely';
import { type SqlDialectName } from '../../durable-cqrs/index.js';

/** The whole schema, written once for both dialects. */
export function initialSchema(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      let eventLog = db.schema.createTable('event_log');
      eventLog =
        dialect === 'postgres'
          ? eventLog.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : eventLog.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
      await eventLog
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('aggregate_type', 'text', (c) => c.notNull())
        .addColumn('aggregate_id', 'text', (c) => c.notNull())
        .addColumn('aggregate_version', 'integer')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('correlation_id', 'text', (c) => c.notNull())
        .addColumn('causation_id', 'text')
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('schema_version', 'integer', (c) => c.notNull())
        .addColumn('dispatched', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('event_log_stream_idx')
        .on('event_log')
        .columns(['stream_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('event_log_undispatched_idx')
        .on('event_log')
        .column('seq')
        .where(sql.ref('dispatched'), '=', 0)
        .execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('stream_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deliveries_pk', ['subscriber', 'event_id'])
        .execute();
      await db.schema
        .createIndex('deliveries_event_idx')
        .on('deliveries')
        .column('event_id')
        .execute();
      await db.schema
        .createIndex('deliveries_status_idx')
        .on('deliveries')
        .columns(['status', 'seq'])
        .execute();

      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('customer_email', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('total_amount', 'bigint')
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('failure_reason', 'text')
        .addColumn('reserved_products', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('orders_created_idx')
        .on('orders')
        .columns(['created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('orders_customer_idx')
        .on('orders')
        .columns(['customer_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('orders_status_idx')
        .on('orders')
        .columns(['status', 'created_at'])
        .execute();

      await db.schema
        .createTable('products')
        .addColumn('product_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('unit_price', 'bigint', (c) => c.notNull())
        .addColumn('available', 'bigint', (c) => c.notNull().check(sql`available >= 0`))
        .addColumn('reserved', 'bigint', (c) => c.notNull().check(sql`reserved >= 0`))
        .addColumn('sold', 'bigint', (c) => c.notNull().check(sql`sold >= 0`))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('reservations')
        .addColumn('order_id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('lines', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('payments')
        .addColumn('payment_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().unique())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('failure_reason', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('gateway_charges')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('notification_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
    },
  };
}
