import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { NotificationView } from '../../domain/email-sender.port.js';
import { NotificationRepository } from '../../infrastructure/notification.repository.js';
import { ListNotifications } from './list-notifications.query.js';

@QueryHandler(ListNotifications)
export class ListNotificationsHandler implements IQueryHandler<
  ListNotifications,
  NotificationView[]
> {
  constructor(private readonly notifications: NotificationRepository) {}

  execute({ orderId }: ListNotifications): Promise<NotificationView[]> {
    return this.notifications.list(orderId);
  }
}
