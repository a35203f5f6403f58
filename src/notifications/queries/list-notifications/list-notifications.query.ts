import { Query } from '@nestjs/cqrs';
import type { NotificationView } from '../../domain/email-sender.port.js';

export class ListNotifications extends Query<NotificationView[]> {
  constructor(readonly orderId?: string) {
    super();
  }
}
