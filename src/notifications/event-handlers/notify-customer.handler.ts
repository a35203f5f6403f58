import { Inject } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { crashPoint } from '../../durable-cqrs/index.js';
import { OrderCancelled } from '../../orders/events/order-cancelled.event.js';
import { OrderCompleted } from '../../orders/events/order-completed.event.js';
import { OrderFailed } from '../../orders/events/order-failed.event.js';
import { CANCELLED_NOTICE, failureNotice } from '../domain/customer-notice.js';
import { EMAIL_SENDER, type EmailSender } from '../domain/email-sender.port.js';
import { NotificationRepository } from '../infrastructure/notification.repository.js';

type FinalOrderEvent = OrderCompleted | OrderFailed | OrderCancelled;

/**
 * Every order ends with exactly one notification: a confirmation when it completed, a failure
 * notice when it failed or was cancelled. It is addressed to the customer's e-mail when the order
 * gave one, else to the customer id (the simulated sender accepts both). Its words are fixed
 * (see customer-notice.ts): nothing a caller wrote goes into it. A notification whose customer's
 * data was erased before it went out is not sent (status SKIPPED, with the reason).
 */
@EventsHandler(OrderCompleted, OrderFailed, OrderCancelled)
export class NotifyCustomerHandler implements IEventHandler<FinalOrderEvent> {
  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
  ) {}

  async handle(event: FinalOrderEvent): Promise<void> {
    const completed = event instanceof OrderCompleted;
    const body = completed
      ? `Thank you. We received ${event.totalAmount} ${event.currency}.`
      : event instanceof OrderCancelled
        ? CANCELLED_NOTICE
        : failureNotice(event.reason);
    const subject = completed
      ? `Your order ${event.orderId} is confirmed`
      : event instanceof OrderCancelled
        ? `Your order ${event.orderId} was cancelled`
        : `Your order ${event.orderId} could not be completed`;
    const notification = await this.notifications.prepare(
      event.orderId,
      completed ? 'CONFIRMATION' : 'FAILURE',
      event.customerEmail ?? event.customerId,
      subject,
      { customerId: event.customerId, raisedAt: event.meta.occurredAt },
    );
    // SENT: done before; SKIPPED: its address was erased, it is never sent.
    if (notification.status !== 'PENDING') return;
    await this.sender.send({
      messageId: notification.notification_id,
      to: notification.recipient,
      subject: notification.subject,
      body,
    });
    crashPoint('notification-after-send');
    await this.notifications.markSent(notification, completed ? null : body);
  }
}
