import type { Kysely, Migration } from 'kysely';

/**
 * Catalog changes become traceable and conditional. Every product gets a version, raised by each
 * change of its row (a catalog write, a reservation, a sale), from which its ETag is made; and
 * every catalog write (a PUT, a stock adjustment) leaves a row in catalog_changes: who, when, the
 * product's fields before and after, and the version it produced.
 */
export const catalogAudit: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('products')
      .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .createTable('catalog_changes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'text', (c) => c.notNull())
      .addColumn('before', 'text')
      .addColumn('after', 'text', (c) => c.notNull())
      .addColumn('delta', 'bigint')
      .addColumn('reason', 'text')
      .execute();
    // A product's changes are read newest first, and a version is made by one change only.
    await db.schema
      .createIndex('catalog_changes_product_idx')
      .on('catalog_changes')
      .columns(['product_id', 'version'])
      .unique()
      .execute();
  },
};
