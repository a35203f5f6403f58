import {
  anyOf,
  DATABASE,
  type Database,
  EventStore,
  Lookup,
  newId,
  sharedInsert,
  sharedUpdate,
  Statement,
  UnitOfWork,
} from '../../durable-cqrs/index.js';
import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { formatMinor } from '../../common/money.js';
import type { PaymentsTable } from '../../database/schema.js';
import { PaymentStatus, type PaymentView } from '../domain/payment-gateway.port.js';
import { PaymentCompleted } from '../events/payment-completed.event.js';
import { PaymentFailed } from '../events/payment-failed.event.js';
import { PaymentInitiated } from '../events/payment-initiated.event.js';

export type PaymentRow = Selectable<PaymentsTable>;

const insertPayment = new Statement<[string, string, number, string, string]>(
  5,
  (db, paymentId, orderId, amount, currency, now) =>
    db
      .insertInto('payments')
      .values({
        payment_id: paymentId,
        order_id: orderId,
        amount,
        currency,
        status: PaymentStatus.PENDING,
        failure_reason: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('order_id').doNothing()),
);
const settlePending = new Statement<[string, string, string | null, string]>(
  4,
  (db, paymentId, status, failureReason, updatedAt) =>
    db
      .updateTable('payments')
      .set({ status, failure_reason: failureReason, updated_at: updatedAt })
      .where('payment_id', '=', paymentId)
      .where('status', '=', PaymentStatus.PENDING),
);
/** PostgreSQL: the calls of a batch or a group share one statement each (see SharedWrite). */
const insertPayments = sharedInsert({
  one: insertPayment,
  table: 'payments',
  columns: [
    ['payment_id', 'text'],
    ['order_id', 'text'],
    ['amount', 'bigint'],
    ['currency', 'text'],
    ['status', 'text'],
    ['failure_reason', 'text'],
    ['created_at', 'text'],
    ['updated_at', 'text'],
  ],
  key: 'order_id',
  skipConflicts: true,
  rowOf: ([paymentId, orderId, amount, currency, now]) => [
    paymentId,
    orderId,
    amount,
    currency,
    PaymentStatus.PENDING,
    null,
    now,
    now,
  ],
});
const settlePayments = sharedUpdate({
  one: settlePending,
  table: 'payments',
  key: ['payment_id', 'text'],
  set: [
    ['status', 'text'],
    ['failure_reason', 'text'],
    ['updated_at', 'text'],
  ],
  guards: [['status', 'text']],
  rowOf: (args) => [...args, PaymentStatus.PENDING],
});
const paymentOfOrder = new Lookup(
  new Statement<[string], PaymentRow>(1, (db, orderId) =>
    db.selectFrom('payments').selectAll().where('order_id', '=', orderId),
  ),
  new Statement<[string[]], PaymentRow>(1, (db, orderIds) =>
    db
      .selectFrom('payments')
      .selectAll()
      .where('order_id', '=', anyOf(orderIds))
      .orderBy('order_id'),
  ),
  (row) => row.order_id,
);

/** One payment per order; each status change is conditional, so it happens once. */
@Injectable()
export class PaymentRepository {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly events: EventStore,
  ) {}

  async findByOrder(orderId: string): Promise<PaymentRow | undefined> {
    return paymentOfOrder.load(this.uow.reader(), orderId);
  }

  /** Records the intent to charge (PENDING) and raises PaymentInitiated, once per order. */
  async initiate(orderId: string, amount: number, currency: string): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const paymentId = newId();
      const changes = await insertPayments.run(
        tx,
        paymentId,
        orderId,
        amount,
        currency,
        new Date().toISOString(),
      );
      if (changes !== 1) return;
      await this.events.append(
        tx,
        [new PaymentInitiated(orderId, paymentId, formatMinor(amount), currency, paymentId)],
        { streamId: orderId, aggregateType: 'Payment', aggregateId: paymentId },
      );
    });
  }

  /** PENDING to COMPLETED or FAILED, raising the matching event; a second call does nothing. */
  async settle(payment: PaymentRow, outcome: { ok: true } | { ok: false; reason: string }) {
    await this.uow.transaction(async (tx) => {
      const changes = await settlePayments.run(
        tx,
        payment.payment_id,
        outcome.ok ? PaymentStatus.COMPLETED : PaymentStatus.FAILED,
        outcome.ok ? null : outcome.reason,
        new Date().toISOString(),
      );
      if (changes !== 1) return;
      const amount = formatMinor(Number(payment.amount));
      const event = outcome.ok
        ? new PaymentCompleted(payment.order_id, payment.payment_id, amount, payment.currency)
        : new PaymentFailed(payment.order_id, payment.payment_id, amount, outcome.reason);
      await this.events.append(tx, [event], {
        streamId: payment.order_id,
        aggregateType: 'Payment',
        aggregateId: payment.payment_id,
      });
    });
  }

  async markRefunded(paymentId: string, reason: string): Promise<void> {
    await this.uow.transaction((tx) =>
      tx.db
        .updateTable('payments')
        .set({
          status: PaymentStatus.REFUNDED,
          failure_reason: reason,
          updated_at: new Date().toISOString(),
        })
        .where('payment_id', '=', paymentId)
        .where('status', '=', PaymentStatus.COMPLETED)
        .execute(),
    );
  }

  async list(orderId?: string): Promise<PaymentView[]> {
    let query = this.database.reader.selectFrom('payments').selectAll();
    if (orderId) query = query.where('order_id', '=', orderId);
    const rows = await query.orderBy('created_at', 'desc').limit(100).execute();
    return rows.map((row) => ({
      paymentId: row.payment_id,
      orderId: row.order_id,
      amount: formatMinor(Number(row.amount)),
      currency: row.currency,
      status: row.status as PaymentStatus,
      failureReason: row.failure_reason,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
  }
}
