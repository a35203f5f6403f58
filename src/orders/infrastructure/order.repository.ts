import { Inject, Injectable } from '@nestjs/common';
import { sql, type Insertable, type Selectable } from 'kysely';
import {
  anyOf,
  type Column,
  DATABASE,
  type Database,
  EventStore,
  Lookup,
  sharedInsert,
  sharedUpdate,
  Statement,
  type Tx,
  UnitOfWork,
} from '../../durable-cqrs/index.js';
import type { OrdersTable } from '../../database/schema.js';
import { Order, type OrderState } from '../domain/order.aggregate.js';
import { OrderError } from '../domain/order.errors.js';
import { OrderMetrics } from './order-metrics.js';
import { ACTIVE_STATUSES, type OrderStatus } from '../domain/order-status.js';

export type OrderRow = Selectable<OrdersTable>;

/** Every column of an order but its id, in the order the statements below take them. */
const ROW_COLUMNS = [
  'customer_id',
  'customer_email',
  'status',
  'items',
  'total_amount',
  'currency',
  'failure_reason',
  'reserved_products',
  'version',
  'created_at',
  'updated_at',
] as const;
type RowValues = unknown[];

function rowOf(values: RowValues): Omit<Insertable<OrdersTable>, 'id'> {
  return Object.fromEntries(ROW_COLUMNS.map((column, i) => [column, values[i]])) as unknown as Omit<
    Insertable<OrdersTable>,
    'id'
  >;
}

const loadOne = new Statement<[string], OrderRow>(1, (db, id) =>
  db.selectFrom('orders').selectAll().where('id', '=', id),
);
const loadForUpdate = new Statement<[string], OrderRow>(1, (db, id) =>
  db.selectFrom('orders').selectAll().where('id', '=', id).forUpdate(),
);
/** Orders by id: one statement for the loads of a batch, a group or a moment (see Lookup). */
const orderById = new Lookup(
  loadOne,
  new Statement<[string[]], OrderRow>(1, (db, ids) =>
    db.selectFrom('orders').selectAll().where('id', '=', anyOf(ids)).orderBy('id'),
  ),
  (row) => row.id,
);
const orderForUpdate = new Lookup(
  loadForUpdate,
  new Statement<[string[]], OrderRow>(1, (db, ids) =>
    db.selectFrom('orders').selectAll().where('id', '=', anyOf(ids)).orderBy('id').forUpdate(),
  ),
  (row) => row.id,
);
const insertOrder = new Statement<unknown[]>(1 + ROW_COLUMNS.length, (db, id, ...values) =>
  db.insertInto('orders').values({ id: id as string, ...rowOf(values) }),
);
const updateOrder = new Statement<unknown[]>(2 + ROW_COLUMNS.length, (db, id, version, ...values) =>
  db
    .updateTable('orders')
    .set(rowOf(values))
    .where('id', '=', id as string)
    .where('version', '=', version as number),
);

/** Column types of the orders table in the shared statements (PostgreSQL). */
const COLUMNS: readonly Column[] = ROW_COLUMNS.map((name) => [
  name,
  name === 'total_amount' ? 'bigint' : name === 'version' ? 'integer' : 'text',
]);
/**
 * PostgreSQL: the orders stored by a group of requests, and the updates of a batch or a group,
 * each as one statement (see SharedWrite); an update is guarded by the version it read.
 */
const insertOrders = sharedInsert({
  one: insertOrder,
  table: 'orders',
  columns: [['id', 'text'], ...COLUMNS],
  key: 'id',
  skipConflicts: false,
  rowOf: (args) => args,
});
const updateOrders = sharedUpdate({
  one: updateOrder,
  table: 'orders',
  key: ['id', 'text'],
  set: COLUMNS,
  guards: [['version', 'integer']],
  rowOf: ([id, version, ...values]) => [id, ...values, version],
});

export interface OrderFilter {
  status?: OrderStatus;
  customerId?: string;
  limit: number;
  after?: { createdAt: string; id: string };
}

/** Saves an order and the events it raised in one transaction; optimistic concurrency on version. */
@Injectable()
export class OrderRepository {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly events: EventStore,
    private readonly metrics: OrderMetrics,
  ) {}

  /** Stores a new order and its events; `alongside` writes more in the same transaction. */
  async add(order: Order, alongside?: (tx: Tx) => Promise<void>): Promise<void> {
    await this.uow.transaction(async (tx) => {
      await this.save(tx, order);
      await alongside?.(tx);
    });
  }

  /**
   * Loads the order inside a transaction, lets `change` act on it and saves what changed, events
   * included. Nothing is written when `change` changed nothing.
   */
  async update<T>(orderId: string, change: (order: Order) => T | Promise<T>): Promise<T> {
    return this.uow.transaction(async (tx) => {
      const order = await this.load(tx, orderId);
      const before = JSON.stringify(order.snapshot);
      const result = await change(order);
      if (order.getUncommittedEvents().length > 0 || JSON.stringify(order.snapshot) !== before) {
        await this.save(tx, order);
      }
      return result;
    });
  }

  async load(tx: Tx, orderId: string): Promise<Order> {
    const row = await (tx.locksRows ? orderForUpdate : orderById).load(tx, orderId);
    if (!row) throw OrderError.notFound(orderId);
    return Order.fromState(toState(row));
  }

  async save(tx: Tx, order: Order): Promise<void> {
    const state = order.snapshot;
    const expected = state.version;
    const next = expected + 1;
    const row = {
      customer_id: state.customerId,
      customer_email: state.customerEmail,
      status: state.status,
      items: JSON.stringify(state.items),
      total_amount: state.totalAmount,
      currency: state.currency,
      failure_reason: state.failureReason,
      reserved_products: JSON.stringify(state.reservedProducts),
      version: next,
      created_at: state.createdAt,
      updated_at: state.updatedAt,
    };
    const values = ROW_COLUMNS.map((column) => row[column]);
    if (expected === 0) {
      await insertOrders.run(tx, state.id, ...values);
    } else {
      const changes = await updateOrders.run(tx, state.id, expected, ...values);
      if (changes !== 1) {
        throw new OrderError(
          'ORDER_CONCURRENT_UPDATE',
          `Order ${state.id} was changed concurrently; try again`,
        );
      }
    }
    this.metrics.saving(order.getUncommittedEvents(), state.createdAt);
    await this.events.append(tx, order.getUncommittedEvents(), {
      streamId: state.id,
      aggregateType: 'Order',
      aggregateId: state.id,
      aggregateVersion: next,
    });
    // The events stay on the aggregate: on PostgreSQL a unit may run again (its group rolled
    // back for a neighbour's failure, see PostgresGroupCommit), and that run must store them too.
  }

  async find(orderId: string): Promise<OrderState | undefined> {
    const row = await orderById.load(this.uow.reader(), orderId);
    return row ? toState(row) : undefined;
  }

  /** Non-terminal orders not updated since `before`, oldest first. */
  async overdue(before: string, limit: number): Promise<OrderState[]> {
    const rows = await this.database.reader
      .selectFrom('orders')
      .selectAll()
      .where('status', 'in', ACTIVE_STATUSES)
      .where('updated_at', '<', before)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    return rows.map(toState);
  }

  /** How many orders are in each status (read from the index on status alone). */
  async countByStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows = await this.database.reader
      .selectFrom('orders')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy('status')
      .execute();
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }

  /**
   * Orders that reached `statuses` since `since`, per minute ('YYYY-MM-DDTHH:MM', UTC) of their
   * last change; a terminal order never changes again, so that is when it ended. Only orders
   * created since `createdSince` are read, so the index on (status, created_at) bounds the scan to
   * recent orders; the caller picks it longer than an order can live.
   */
  async endedPerMinute(
    statuses: readonly OrderStatus[],
    since: string,
    createdSince: string,
  ): Promise<Array<{ minute: string; status: string; count: number }>> {
    const minute = sql<string>`substr(updated_at, 1, 16)`;
    const rows = await this.database.reader
      .selectFrom('orders')
      .select([
        minute.as('minute'),
        'status',
        (eb) => eb.fn.countAll<number | string>().as('count'),
      ])
      .where('status', 'in', statuses)
      .where('created_at', '>=', createdSince)
      .where('updated_at', '>=', since)
      .groupBy([minute, 'status'])
      .execute();
    return rows.map((row) => ({
      minute: row.minute,
      status: row.status,
      count: Number(row.count),
    }));
  }

  /** Newest first; `after` is the last order of the previous page. */
  async list(filter: OrderFilter): Promise<OrderState[]> {
    let query = this.database.reader.selectFrom('orders').selectAll();
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
    if (filter.after) {
      const { createdAt, id } = filter.after;
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(toState);
  }
}

function toState(row: OrderRow): OrderState {
  return {
    id: row.id,
    customerId: row.customer_id,
    customerEmail: row.customer_email,
    status: row.status as OrderStatus,
    items: JSON.parse(row.items) as OrderState['items'],
    totalAmount: row.total_amount === null ? null : Number(row.total_amount),
    currency: row.currency,
    failureReason: row.failure_reason,
    reservedProducts: JSON.parse(row.reserved_products) as string[],
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
