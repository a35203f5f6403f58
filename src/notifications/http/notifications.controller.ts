import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrderIdFilterDto } from '../../common/order-id-filter.dto.js';
import type { NotificationView } from '../domain/email-sender.port.js';
import { ListNotifications } from '../queries/list-notifications/list-notifications.query.js';

@ApiTags('notifications')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Notifications sent through the (simulated) e-mail sender, newest first',
  })
  list(@Query() { orderId }: OrderIdFilterDto): Promise<NotificationView[]> {
    return this.queryBus.execute(new ListNotifications(orderId));
  }
}
