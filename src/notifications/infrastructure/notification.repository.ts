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
import type { NotificationsTable } from '../../database/schema.js';
import {
  ERASED_RECIPIENT,
  SKIPPED_FOR_ERASURE,
  type NotificationKind,
  type NotificationView,
} from '../domain/email-sender.port.js';
import { OrderConfirmationSent } from '../events/order-confirmation-sent.event.js';
import { OrderFailureNotificationSent } from '../events/order-failure-notification-sent.event.js';

export type NotificationRow = Selectable<NotificationsTable>;

const insertNotification = new Statement<
  [string, string, string, string, string, string, string, string | null]
>(8, (db, id, orderId, kind, recipient, subject, now, status, skipReason) =>
  db
    .insertInto('notifications')
    .values({
      notification_id: id,
      order_id: orderId,
      kind,
      recipient,
      subject,
      status,
      created_at: now,
      sent_at: null,
      skip_reason: skipReason,
    })
    .onConflict((oc) => oc.column('order_id').doNothing()),
);
const erasedSince = new Statement<[string, string], { erased_at: string }>(
  2,
  (db, customerId, at) =>
    db
      .selectFrom('customer_erasures')
      .select('erased_at')
      .where('customer_id', '=', customerId)
      .where('erased_at', '>=', at),
);
/** PostgreSQL: the calls of a batch or a group share one statement each (see SharedWrite). */
const insertNotifications = sharedInsert({
  one: insertNotification,
  table: 'notifications',
  columns: [
    'notification_id',
    'order_id',
    'kind',
    'recipient',
    'subject',
    'status',
    'created_at',
    'sent_at',
    'skip_reason',
  ].map((name) => [name, 'text'] as const),
  key: 'order_id',
  skipConflicts: true,
  rowOf: ([id, orderId, kind, recipient, subject, now, status, skipReason]) => [
    id,
    orderId,
    kind,
    recipient,
    subject,
    status,
    now,
    null,
    skipReason,
  ],
});
const ofOrder = new Lookup(
  new Statement<[string], NotificationRow>(1, (db, orderId) =>
    db.selectFrom('notifications').selectAll().where('order_id', '=', orderId),
  ),
  new Statement<[string[]], NotificationRow>(1, (db, orderIds) =>
    db
      .selectFrom('notifications')
      .selectAll()
      .where('order_id', '=', anyOf(orderIds))
      .orderBy('order_id'),
  ),
  (row) => row.order_id,
);
const markPendingSent = new Statement<[string, string]>(2, (db, id, sentAt) =>
  db
    .updateTable('notifications')
    .set({ status: 'SENT', sent_at: sentAt })
    .where('notification_id', '=', id)
    .where('status', '=', 'PENDING'),
);
const markSentOnce = sharedUpdate({
  one: markPendingSent,
  table: 'notifications',
  key: ['notification_id', 'text'],
  set: [
    ['status', 'text'],
    ['sent_at', 'text'],
  ],
  guards: [['status', 'text']],
  rowOf: ([id, sentAt]) => [id, 'SENT', sentAt, 'PENDING'],
});

/** One final notification per order: the order id is unique, and PENDING moves to SENT once. */
@Injectable()
export class NotificationRepository {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly uow: UnitOfWork,
    private readonly events: EventStore,
  ) {}

  /**
   * The order's notification, created PENDING if it does not exist yet. An address taken from an
   * event raised before its customer's data was erased is erased data: the notification is then
   * created SKIPPED, never to be sent, with the reason.
   */
  async prepare(
    orderId: string,
    kind: NotificationKind,
    recipient: string,
    subject: string,
    source: { customerId: string; raisedAt: string },
  ): Promise<NotificationRow> {
    return this.uow.transaction(async (tx) => {
      const erased =
        recipient !== source.customerId &&
        (await erasedSince.run(tx, source.customerId, source.raisedAt)).rows.length > 0;
      await insertNotifications.run(
        tx,
        newId(),
        orderId,
        kind,
        erased ? ERASED_RECIPIENT : recipient,
        subject,
        new Date().toISOString(),
        erased ? 'SKIPPED' : 'PENDING',
        erased ? SKIPPED_FOR_ERASURE : null,
      );
      return (await ofOrder.load(tx, orderId))!; // inserted above if it was not there
    });
  }

  /**
   * PENDING to SENT, raising the notification event (with `notice`, what a failure notice told
   * the customer); a second call does nothing.
   */
  async markSent(notification: NotificationRow, notice: string | null): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const sent = await markSentOnce.run(
        tx,
        notification.notification_id,
        new Date().toISOString(),
      );
      if (sent !== 1) return;
      const { order_id: orderId, notification_id: id, recipient } = notification;
      const event =
        notification.kind === 'CONFIRMATION'
          ? new OrderConfirmationSent(orderId, id, recipient)
          : new OrderFailureNotificationSent(orderId, id, recipient, notice ?? 'order failed');
      await this.events.append(tx, [event], {
        streamId: orderId,
        aggregateType: 'Notification',
        aggregateId: id,
      });
    });
  }

  async list(orderId?: string): Promise<NotificationView[]> {
    let query = this.database.reader.selectFrom('notifications').selectAll();
    if (orderId) query = query.where('order_id', '=', orderId);
    const rows = await query.orderBy('created_at', 'desc').limit(100).execute();
    return rows.map((row) => ({
      notificationId: row.notification_id,
      orderId: row.order_id,
      kind: row.kind as NotificationKind,
      recipient: row.recipient,
      subject: row.subject,
      status: row.status as NotificationView['status'],
      createdAt: row.created_at,
      sentAt: row.sent_at,
      skipReason: row.skip_reason,
    }));
  }
}
