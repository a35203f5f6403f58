import type { Kysely, Migration } from 'kysely';
import type { DB } from '../schema.js';

/** The starter catalog. Runs once, on a fresh database; later changes go through PUT /inventory. */
export const seedCatalog: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const now = new Date().toISOString();
    const products = [
      { product_id: 'product-1', name: 'Widget', unit_price: 5000, available: 100 },
      { product_id: 'product-2', name: 'Gadget', unit_price: 7500, available: 50 },
      { product_id: 'product-3', name: 'Gizmo', unit_price: 2000, available: 25 },
    ];
    await (db as Kysely<DB>)
      .insertInto('products')
      .values(products.map((p) => ({ ...p, reserved: 0, sold: 0, updated_at: now })))
      .execute();
  },
};
