import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { inChunks, RetentionStore, UnitOfWork } from '../../../durable-cqrs/index.js';
import {
  ERASED_RECIPIENT,
  SKIPPED_FOR_ERASURE,
} from '../../../notifications/domain/email-sender.port.js';
import { EraseCustomerData, type ErasureReport } from './erase-customer-data.command.js';

/**
 * Erases the customer's e-mail address from its orders, their notifications and their events'
 * payloads (`customerEmail`, `recipient`), in one unit of work; everything else of the orders'
 * history (statuses, amounts, the events themselves) stays. A notification not sent yet is
 * marked SKIPPED with the reason, and the erasure is remembered, so a notification raised before
 * it (an event still on its way) is not sent to the erased address either.
 */
@CommandHandler(EraseCustomerData)
export class EraseCustomerDataHandler implements ICommandHandler<EraseCustomerData, ErasureReport> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly events: RetentionStore,
  ) {}

  execute({ customerId }: EraseCustomerData): Promise<ErasureReport> {
    return this.uow.transaction(async (tx) => {
      const erasedAt = new Date().toISOString();
      const orderIds = (
        await tx.db
          .selectFrom('orders')
          .select('id')
          .where('customer_id', '=', customerId)
          .execute()
      ).map((row) => row.id);
      const orders = await tx.db
        .updateTable('orders')
        .set({ customer_email: null })
        .where('customer_id', '=', customerId)
        .where('customer_email', 'is not', null)
        .executeTakeFirst();
      // A recipient equal to the customer id was never an address (the order gave none).
      const addressed = (ids: string[]) =>
        tx.db
          .updateTable('notifications')
          .where('order_id', 'in', ids)
          .where('recipient', '<>', customerId)
          .where('recipient', '<>', ERASED_RECIPIENT);
      let skipped = 0;
      let notifications = 0;
      // A customer may have any number of orders: their ids go in lists the database accepts.
      for (const ids of inChunks(orderIds)) {
        const unsent = await addressed(ids)
          .where('status', '=', 'PENDING')
          .set({ recipient: ERASED_RECIPIENT, status: 'SKIPPED', skip_reason: SKIPPED_FOR_ERASURE })
          .executeTakeFirst();
        const sent = await addressed(ids).set({ recipient: ERASED_RECIPIENT }).executeTakeFirst();
        skipped += Number(unsent.numUpdatedRows);
        notifications += Number(unsent.numUpdatedRows) + Number(sent.numUpdatedRows);
      }
      const events = await this.events.rewritePayloads(tx, orderIds, (payload) => {
        let changed = false;
        if (typeof payload.customerEmail === 'string') {
          payload.customerEmail = null;
          changed = true;
        }
        if (
          typeof payload.recipient === 'string' &&
          payload.recipient !== customerId &&
          payload.recipient !== ERASED_RECIPIENT
        ) {
          payload.recipient = ERASED_RECIPIENT;
          changed = true;
        }
        return changed;
      });
      await tx.db
        .insertInto('customer_erasures')
        .values({ customer_id: customerId, erased_at: erasedAt })
        .onConflict((oc) => oc.column('customer_id').doUpdateSet({ erased_at: erasedAt }))
        .execute();
      return {
        customerId,
        orders: Number(orders.numUpdatedRows),
        notifications,
        notificationsSkipped: skipped,
        events,
        erasedAt,
      };
    });
  }
}
