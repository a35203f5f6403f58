import { Module } from '@nestjs/common';
import { EMAIL_SENDER } from './domain/email-sender.port.js';
import { NotifyCustomerHandler } from './event-handlers/notify-customer.handler.js';
import { NotificationsController } from './http/notifications.controller.js';
import { NotificationRepository } from './infrastructure/notification.repository.js';
import { SimulatedEmailSender } from './infrastructure/simulated-email-sender.js';
import { ListNotificationsHandler } from './queries/list-notifications/list-notifications.handler.js';

const eventHandlers = [NotifyCustomerHandler];
const queryHandlers = [ListNotificationsHandler];

@Module({
  controllers: [NotificationsController],
  providers: [
    NotificationRepository,
    { provide: EMAIL_SENDER, useClass: SimulatedEmailSender },
    ...eventHandlers,
    ...queryHandlers,
  ],
})
export class NotificationsModule {}
