import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { formatMinor } from '../../common/money.js';
import { DATABASE } from '../../database/database.tokens.js';
import type { Database } from '../../database/database.js';
import type { ProductsTable, ReservationsTable } from '../../database/schema.js';
import {
  anyOf,
  Lookup,
  SharedWrite,
  sharedInsert,
  sharedUpdate,
} from '../../database/shared-statements.js';
import { Statement } from '../../database/statement.js';
import { EventStore } from '../../messaging/event-store.js';
import { UnitOfWork, type Tx } from '../../messaging/unit-of-work.js';
import { ReservationStatus, type ProductView, type StockLine } from '../domain/reservation.js';
import { InventoryInsufficient } from '../events/inventory-insufficient.event.js';
import { InventoryReleased } from '../events/inventory-released.event.js';
import { InventoryReserved } from '../events/inventory-reserved.event.js';

/**
 * Stock and reservations. Every change is a conditional update inside one transaction, so the
 * database, not a prior read, decides: stock can never go below zero, and each order's lines are
 * reserved, released or sold at most once.
 */
@Injectable()
export class StockRepository {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly events: EventStore,
  ) {}

  async products(productIds?: string[]): Promise<ProductView[]> {
    if (productIds) {
      // By id: on PostgreSQL the reads of a batch's deliveries share one statement (Lookup).
      const runner = this.uow.reader();
      const ids = [...new Set(productIds)].sort();
      const rows = await Promise.all(ids.map((id) => productById.load(runner, id)));
      return rows.flatMap((row) => (row ? [toView(row)] : []));
    }
    const query = this.uow.reader().db.selectFrom('products').selectAll().orderBy('product_id');
    return (await query.execute()).map(toView);
  }

  /**
   * All lines or none. Raises InventoryReserved per line, or one InventoryInsufficient. Lines are
   * taken in product order by guarded decrements; when one falls short, the lines taken before it
   * are given back in the same unit, so the decision needs no savepoint to undo.
   */
  async reserve(orderId: string, lines: StockLine[]): Promise<void> {
    await this.uow.transaction(async (tx) => {
      // The reservation row comes first: a concurrent copy of this command waits on it and
      // then finds it taken, instead of taking the stock a second time. It says TAKING until the
      // stock is taken: a release of the order meanwhile closes it without giving anything back.
      if (!(await this.claimReservation(tx, orderId, ReservationStatus.TAKING, lines))) return;
      // Always lock products in the same order, so concurrent reservations cannot deadlock.
      const taken: StockLine[] = [];
      for (const line of byProduct(lines)) {
        const changes = await takeStocks.run(tx, line.productId, line.quantity);
        if (changes === 1) {
          taken.push(line);
          continue;
        }
        for (const back of taken) await giveBacks.run(tx, back.productId, back.quantity);
        const product = await tx.db
          .selectFrom('products')
          .select('available')
          .where('product_id', '=', line.productId)
          .executeTakeFirst();
        const available = Number(product?.available ?? 0);
        const reason = `Insufficient stock for ${line.productId}: requested ${line.quantity}, available ${available}`;
        const at = new Date().toISOString();
        const closed = await closeReserved.run(tx, orderId, ReservationStatus.INSUFFICIENT, at);
        if (closed.changes !== 1) return; // released meanwhile: the order is closed already
        await this.append(tx, orderId, [
          new InventoryInsufficient(orderId, line.productId, line.quantity, available, reason),
        ]);
        return;
      }
      const { TAKING, RESERVED } = ReservationStatus;
      if (!(await this.moveReservation(tx, orderId, TAKING, RESERVED))) {
        // Released meanwhile, in this transaction: the stock taken here goes back.
        for (const line of taken) await giveBacks.run(tx, line.productId, line.quantity);
        return;
      }
      await this.append(
        tx,
        orderId,
        lines.map((l) => new InventoryReserved(orderId, l.productId, l.quantity)),
      );
    });
  }

  /**
   * Gives a reserved order's stock back, raising InventoryReleased per line. An order with no
   * reservation yet is closed, so a reservation that arrives later cannot take stock.
   */
  async release(orderId: string, reason: string): Promise<void> {
    await this.uow.transaction(async (tx) => {
      // Nothing reserved yet: close the order's reservation so a later one cannot take stock.
      if (await this.claimReservation(tx, orderId, ReservationStatus.RELEASED, [])) return;
      const reservation = await this.reservationOf(tx, orderId);
      const { TAKING, RESERVED, RELEASED } = ReservationStatus;
      if (reservation?.status === TAKING) {
        // Being taken by a unit of this same transaction: closed here, it gives back what it took.
        await this.moveReservation(tx, orderId, TAKING, RELEASED);
        return;
      }
      if (reservation?.status !== RESERVED) return;
      // The guarded move first: of two copies of this unit in one transaction (PostgreSQL group
      // commit: no row lock between them), only the one that moved it gives the stock back.
      if (!(await this.moveReservation(tx, orderId, RESERVED, RELEASED))) return;
      const lines = JSON.parse(reservation.lines) as StockLine[];
      for (const line of byProduct(lines)) await giveBacks.run(tx, line.productId, line.quantity);
      await this.append(
        tx,
        orderId,
        lines.map((l) => new InventoryReleased(orderId, l.productId, l.quantity, reason)),
      );
    });
  }

  /** The order completed: its reserved stock is sold. */
  async commit(orderId: string): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const reservation = await this.reservationOf(tx, orderId);
      if (reservation?.status !== ReservationStatus.RESERVED) return;
      // The guarded move first, as in release: only the copy that moved it sells the stock.
      const { RESERVED, SOLD } = ReservationStatus;
      if (!(await this.moveReservation(tx, orderId, RESERVED, SOLD))) return;
      for (const line of byProduct(JSON.parse(reservation.lines) as StockLine[])) {
        await sellStocks.run(tx, line.productId, line.quantity);
      }
    });
  }

  private async reservationOf(tx: Tx, orderId: string) {
    if (!tx.locksRows) return (await reservation.run(tx, orderId)).rows[0];
    return reservationForUpdate.load(tx, orderId);
  }

  /** Creates the order's reservation row; false when it exists already (taken or closed). */
  private async claimReservation(
    tx: Tx,
    orderId: string,
    status: ReservationStatus,
    lines: StockLine[],
  ): Promise<boolean> {
    const changes = await claimShared.run(
      tx,
      orderId,
      status,
      JSON.stringify(lines),
      new Date().toISOString(),
    );
    return changes === 1;
  }

  /** `from` to `to`; false when it was not `from` (moved already). */
  private async moveReservation(
    tx: Tx,
    orderId: string,
    from: ReservationStatus,
    to: ReservationStatus,
  ): Promise<boolean> {
    const changes = await moveShared.run(tx, orderId, to, new Date().toISOString(), from);
    return changes === 1;
  }

  private async append(
    tx: Tx,
    orderId: string,
    events: Array<InventoryReserved | InventoryReleased | InventoryInsufficient>,
  ): Promise<void> {
    await this.events.append(tx, events, {
      streamId: orderId,
      aggregateType: 'Reservation',
      aggregateId: orderId,
    });
  }
}

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
const productById = new Lookup(
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
 */
function sharedStockMove(
  one: Statement<[string, number]>,
  set: string,
  guarded: boolean,
): SharedWrite<[string, number]> {
  const text = `UPDATE products AS p SET ${set}, version = p.version + v.n
    FROM (SELECT product_id, sum(quantity) AS q, count(*) AS n
            FROM unnest($1::text[], $2::bigint[]) AS c(product_id, quantity)
           GROUP BY product_id) AS v
    WHERE p.product_id = v.product_id${guarded ? ' AND p.available >= v.q' : ''}
    RETURNING p.product_id`;
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
const takeStocks = sharedStockMove(
  takeStock,
  'available = p.available - v.q, reserved = p.reserved + v.q',
  true,
);
const giveBacks = sharedStockMove(
  giveBack,
  'available = p.available + v.q, reserved = p.reserved - v.q',
  false,
);
const sellStocks = sharedStockMove(
  sellStock,
  'reserved = p.reserved - v.q, sold = p.sold + v.q',
  false,
);
const reservation = new Statement<[string], Selectable<ReservationsTable>>(1, (db, orderId) =>
  db.selectFrom('reservations').selectAll().where('order_id', '=', orderId),
);
/** PostgreSQL: one statement locks the reservations the deliveries of a batch read (Lookup). */
const reservationForUpdate = new Lookup(
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
const closeReserved = new Statement<[string, string, string]>(3, (db, orderId, status, updatedAt) =>
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
const claimShared = sharedInsert({
  one: claim,
  table: 'reservations',
  columns: RESERVATION_COLUMNS,
  key: 'order_id',
  skipConflicts: true,
  rowOf: (args) => args,
});
const moveShared = sharedUpdate({
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

function byProduct(lines: StockLine[]): StockLine[] {
  return [...lines].sort((a, b) =>
    a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0,
  );
}

export function toView(row: Selectable<ProductsTable>): ProductView {
  return {
    productId: row.product_id,
    name: row.name,
    unitPrice: formatMinor(Number(row.unit_price)),
    available: Number(row.available),
    reserved: Number(row.reserved),
    sold: Number(row.sold),
  };
}
