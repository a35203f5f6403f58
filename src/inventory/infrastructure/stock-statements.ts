import type { Selectable } from 'kysely';
import type { ProductsTable, ReservationsTable } from '../../database/schema.js';
import {
  anyOf,
  Lookup,
  sharedInsert,
  sharedUpdate,
  SharedWrite,
  Statement,
} from '../../durable-cqrs/index.js';
import { ReservationStatus } from '../domain/reservation.js';

/**
 * The statements of the stock repository (see StockRepository): one-row statements for SQLite,
 * and the forms the calls of a PostgreSQL batch or group share (see shared-statements.ts).
 */

// The statements of the workflow's path, prepared once (see Statement). Each raises the product's
// version: its ETag must change with its stock, or a PUT based on an older reading would pass
// If-Match and undo the reservation.
const takeStock = new Statement<[string, number]>(2, (db, productId, quantity) =>
  db
    .updateTable('products')
    .set((eb) => ({
      available: eb('available', '-', quantity),
      reserved: eb('reserved', '+', quantity),
      version: eb('version', '+', 1),
    }))
    .where('product_id', '=', productId)
    .where('available', '>=', quantity),
);
const giveBack = new Statement<[string, number]>(2, (db, productId, quantity) =>
  db
    .updateTable('products')
    .set((eb) => ({
      available: eb('available', '+', quantity),
      reserved: eb('reserved', '-', quantity),
      version: eb('version', '+', 1),
    }))
    .where('product_id', '=', productId),
);
const sellStock = new Statement<[string, number]>(2, (db, productId, quantity) =>
  db
    .updateTable('products')
    .set((eb) => ({
      reserved: eb('reserved', '-', quantity),
      sold: eb('sold', '+', quantity),
      version: eb('version', '+', 1),
    }))
    .where('product_id', '=', productId),
);
export const productById = new Lookup(
  new Statement<[string], Selectable<ProductsTable>>(1, (db, productId) =>
    db.selectFrom('products').selectAll().where('product_id', '=', productId),
  ),
  new Statement<[string[]], Selectable<ProductsTable>>(1, (db, productIds) =>
    db
      .selectFrom('products')
      .selectAll()
      .where('product_id', '=', anyOf(productIds))
      .orderBy('product_id'),
  ),
  (row) => row.product_id,
);
/**
 * PostgreSQL: the stock moves of a batch or a group, one statement per kind of move, the calls'
 * quantities summed per product (one product takes many orders at once). Summing is exact: each
 * move only adds to some columns and takes from others, so the total fits the columns' checks
 * when, and only when, the moves one by one would. A guarded take (`available >= quantity`)
 * goes through summed where the product has stock for the total; for the others the calls run
 * one by one, in the order they came, as they would alone.
 *
 * The statement locks its products first, in the order of their ids (`locked`), then moves them:
 * an UPDATE ... FROM alone locks rows in the order its join meets them, which differs from one
 * statement to the next, so two instances moving the same products at once deadlocked (and
 * PostgreSQL takes a second, deadlock_timeout, to find out). In id order, one waits for the other.
 */
function stockMoveSql(set: string, guarded: boolean): string {
  return `WITH v AS (
      SELECT product_id, sum(quantity) AS q, count(*) AS n
        FROM unnest($1::text[], $2::bigint[]) AS c(product_id, quantity)
       GROUP BY product_id),
    locked AS MATERIALIZED (
      SELECT product_id FROM products WHERE product_id IN (SELECT product_id FROM v)
       ORDER BY product_id FOR UPDATE)
    UPDATE products AS p SET ${set}, version = p.version + v.n
      FROM v
     WHERE p.product_id = v.product_id
       AND p.product_id IN (SELECT product_id FROM locked)${guarded ? ' AND p.available >= v.q' : ''}
     RETURNING p.product_id`;
}

function sharedStockMove(
  one: Statement<[string, number]>,
  set: string,
  guarded: boolean,
): SharedWrite<[string, number]> {
  const text = stockMoveSql(set, guarded);
  return new SharedWrite(one, async (runner, calls) => {
    const { rows } = await runner.runSql<{ product_id: string }>(text, [
      calls.map(([productId]) => productId),
      calls.map(([, quantity]) => quantity),
    ]);
    const moved = new Set(rows.map((row) => row.product_id));
    const applied: number[] = [];
    for (const [i, call] of calls.entries()) {
      if (moved.has(call[0])) applied.push(i);
      else if (guarded && (await one.run(runner, ...call)).changes === 1) applied.push(i);
    }
    return applied;
  });
}
export const takeStocks = sharedStockMove(
  takeStock,
  'available = p.available - v.q, reserved = p.reserved + v.q',
  true,
);
export const giveBacks = sharedStockMove(
  giveBack,
  'available = p.available + v.q, reserved = p.reserved - v.q',
  false,
);
export const sellStocks = sharedStockMove(
  sellStock,
  'reserved = p.reserved - v.q, sold = p.sold + v.q',
  false,
);
export const reservation = new Statement<[string], Selectable<ReservationsTable>>(
  1,
  (db, orderId) => db.selectFrom('reservations').selectAll().where('order_id', '=', orderId),
);
/** PostgreSQL: one statement locks the reservations the deliveries of a batch read (Lookup). */
export const reservationForUpdate = new Lookup(
  new Statement<[string], Selectable<ReservationsTable>>(1, (db, orderId) =>
    db.selectFrom('reservations').selectAll().where('order_id', '=', orderId).forUpdate(),
  ),
  new Statement<[string[]], Selectable<ReservationsTable>>(1, (db, orderIds) =>
    db
      .selectFrom('reservations')
      .selectAll()
      .where('order_id', '=', anyOf(orderIds))
      .orderBy('order_id')
      .forUpdate(),
  ),
  (row) => row.order_id,
);
const claim = new Statement<[string, string, string, string]>(
  4,
  (db, orderId, status, lines, updatedAt) =>
    db
      .insertInto('reservations')
      .values({ order_id: orderId, status, lines, updated_at: updatedAt })
      .onConflict((oc) => oc.column('order_id').doNothing()),
);
const moveReserved = new Statement<[string, string, string, string]>(
  4,
  (db, orderId, status, updatedAt, from) =>
    db
      .updateTable('reservations')
      .set({ status, updated_at: updatedAt })
      .where('order_id', '=', orderId)
      .where('status', '=', from),
);

/** A reservation found short: no stock is held for it, and its lines are dropped. */
export const closeReserved = new Statement<[string, string, string]>(
  3,
  (db, orderId, status, updatedAt) =>
    db
      .updateTable('reservations')
      .set({ status, lines: '[]', updated_at: updatedAt })
      .where('order_id', '=', orderId)
      .where('status', '=', ReservationStatus.TAKING),
);
/** PostgreSQL: the claims and moves of a batch or a group share one statement each (SharedWrite). */
const RESERVATION_COLUMNS = ['order_id', 'status', 'lines', 'updated_at'].map(
  (name) => [name, 'text'] as const,
);
export const claimShared = sharedInsert({
  one: claim,
  table: 'reservations',
  columns: RESERVATION_COLUMNS,
  key: 'order_id',
  skipConflicts: true,
  rowOf: (args) => args,
});
export const moveShared = sharedUpdate({
  one: moveReserved,
  table: 'reservations',
  key: ['order_id', 'text'],
  set: [
    ['status', 'text'],
    ['updated_at', 'text'],
  ],
  guards: [['status', 'text']],
  rowOf: (args) => args,
});
