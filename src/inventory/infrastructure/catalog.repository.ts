import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { DATABASE, type Database, newId, type Tx, UnitOfWork } from '../../durable-cqrs/index.js';
import type {
  CatalogChangeKind,
  CatalogChangesTable,
  ProductsTable,
} from '../../database/schema.js';
import type {
  CatalogChangeView,
  CatalogFields,
  ProductState,
  VersionCondition,
} from '../domain/catalog.js';
import { InventoryError } from '../domain/inventory.errors.js';
import { toView } from './stock.repository.js';

export interface ProductPut {
  productId: string;
  name: string;
  /** Minor units. */
  unitPrice: number;
  available: number;
}

/**
 * Catalog writes: a PUT of a product and a stock adjustment. Each one raises the product's version
 * and records who changed what in catalog_changes, in the same unit of work, so no change is
 * stored without its audit row and no audit row without its change.
 */
@Injectable()
export class CatalogRepository {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
  ) {}

  async product(productId: string): Promise<ProductState | undefined> {
    const row = await this.database.reader
      .selectFrom('products')
      .selectAll()
      .where('product_id', '=', productId)
      .executeTakeFirst();
    return row && toState(row);
  }

  /**
   * Adds the product or sets its name, price and available stock. With a condition (If-Match),
   * it is compared with the version of the row as this unit locks it, so of two writers holding
   * the same version exactly one gets through.
   */
  put(change: ProductPut, condition: VersionCondition | undefined, actor: string) {
    return this.uow.transaction(async (tx): Promise<ProductState> => {
      let before = await this.locked(tx, change.productId);
      if (condition !== undefined && !satisfies(condition, before)) {
        throw InventoryError.preconditionFailed(change.productId, before?.version ?? null);
      }
      const now = new Date().toISOString();
      const fields = {
        name: change.name,
        unit_price: change.unitPrice,
        available: change.available,
      };
      if (!before) {
        const created = await tx.db
          .insertInto('products')
          .values({
            product_id: change.productId,
            ...fields,
            reserved: 0,
            sold: 0,
            updated_at: now,
          })
          .onConflict((oc) => oc.column('product_id').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (created) return this.record(tx, 'put', actor, now, null, created);
        // Created by a concurrent unit since the read (PostgreSQL): update it like any other.
        before = await this.locked(tx, change.productId);
      }
      const after = await tx.db
        .updateTable('products')
        .set((eb) => ({ ...fields, version: eb('version', '+', 1), updated_at: now }))
        .where('product_id', '=', change.productId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.record(tx, 'put', actor, now, before!, after);
    });
  }

  /**
   * Adds delta (negative: takes it away) to the available stock in one conditional statement, so
   * reservations made meanwhile are kept, and available stock never goes below zero.
   */
  adjust(productId: string, delta: number, reason: string, actor: string) {
    return this.uow.transaction(async (tx): Promise<ProductState> => {
      const now = new Date().toISOString();
      const after = await tx.db
        .updateTable('products')
        .set((eb) => ({
          available: eb('available', '+', delta),
          version: eb('version', '+', 1),
          updated_at: now,
        }))
        .where('product_id', '=', productId)
        .where((eb) => eb(eb('available', '+', delta), '>=', 0))
        .returningAll()
        .executeTakeFirst();
      if (!after) {
        const current = await this.locked(tx, productId);
        if (!current) throw InventoryError.productNotFound(productId);
        throw InventoryError.stockTooLow(productId, delta, current.product.available);
      }
      // The statement changed nothing but available and the version: the row before is exact.
      const before = toState({
        ...after,
        available: Number(after.available) - delta,
        version: Number(after.version) - 1,
      });
      return this.record(tx, 'adjust', actor, now, before, after, { delta, reason });
    });
  }

  /** The product's catalog changes, newest first; undefined for an unknown product. */
  async changes(productId: string): Promise<CatalogChangeView[] | undefined> {
    if (!(await this.product(productId))) return undefined;
    const rows = await this.database.reader
      .selectFrom('catalog_changes')
      .selectAll()
      .where('product_id', '=', productId)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(toChangeView);
  }

  /** The product's row, locked until the unit ends where the database locks rows. */
  private async locked(tx: Tx, productId: string): Promise<ProductState | undefined> {
    let query = tx.db.selectFrom('products').selectAll().where('product_id', '=', productId);
    if (tx.locksRows) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toState(row);
  }

  private async record(
    tx: Tx,
    kind: CatalogChangeKind,
    actor: string,
    changedAt: string,
    before: ProductState | null,
    row: Selectable<ProductsTable>,
    adjustment?: { delta: number; reason: string },
  ): Promise<ProductState> {
    const after = toState(row);
    await tx.db
      .insertInto('catalog_changes')
      .values({
        id: newId(),
        product_id: after.product.productId,
        version: after.version,
        kind,
        actor,
        changed_at: changedAt,
        before: before && JSON.stringify(catalogFields(before)),
        after: JSON.stringify(catalogFields(after)),
        delta: adjustment?.delta ?? null,
        reason: adjustment?.reason ?? null,
      })
      .execute();
    return after;
  }
}

function satisfies(condition: VersionCondition, current: ProductState | undefined): boolean {
  if (!current) return false; // If-Match, even `*`, needs a current representation (RFC 9110)
  return condition === '*' || condition.includes(current.version);
}

function toState(row: Selectable<ProductsTable>): ProductState {
  return { product: toView(row), version: Number(row.version) };
}

function catalogFields({ product }: ProductState): CatalogFields {
  return { name: product.name, unitPrice: product.unitPrice, available: product.available };
}

function toChangeView(row: Selectable<CatalogChangesTable>): CatalogChangeView {
  return {
    id: row.id,
    productId: row.product_id,
    version: Number(row.version),
    kind: row.kind,
    actor: row.actor,
    changedAt: row.changed_at,
    before: row.before === null ? null : (JSON.parse(row.before) as CatalogFields),
    after: JSON.parse(row.after) as CatalogFields,
    delta: row.delta === null ? null : Number(row.delta),
    reason: row.reason,
  };
}
