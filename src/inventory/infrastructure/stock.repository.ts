import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { formatMinor } from '../../common/money.js';
import {
  DATABASE,
  type Database,
  EventStore,
  type Tx,
  UnitOfWork,
} from '../../durable-cqrs/index.js';
import type { ProductsTable } from '../../database/schema.js';
import { ReservationStatus, type ProductView, type StockLine } from '../domain/reservation.js';
import { InventoryInsufficient } from '../events/inventory-insufficient.event.js';
import { InventoryReleased } from '../events/inventory-released.event.js';
import { InventoryReserved } from '../events/inventory-reserved.event.js';
import {
  claimShared,
  closeReserved,
  giveBacks,
  moveShared,
  productById,
  reservation,
  reservationForUpdate,
  sellStocks,
  takeStocks,
} from './stock-statements.js';

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
      if (!reservation) return;
      if (reservation.status === TAKING) {
        // Being taken by a unit of this same transaction: closed here, it gives back what it took.
        if (await this.moveReservation(tx, orderId, TAKING, RELEASED)) return;
        // That unit moved it to RESERVED first (both moves in one shared statement, its first):
        // its stock is taken, so it is released below as any reserved order.
      } else if (reservation.status !== RESERVED) return;
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
