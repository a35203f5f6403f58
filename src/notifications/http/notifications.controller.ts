import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { mayList } from '../../orders/queries/get-order/visible-order.js';
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
  async list(
    @Query() { orderId }: OrderIdFilterDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NotificationView[]> {
    await mayList(this.queryBus, principal, orderId);
    return this.queryBus.execute(new ListNotifications(orderId));
  }
}
