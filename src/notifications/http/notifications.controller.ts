import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { CanSeeOrder } from '../../orders/queries/can-see-order/can-see-order.query.js';
import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiDoc, ApiProblems } from '../../common/openapi.js';
import { OrderIdFilterDto } from '../../common/order-id-filter.dto.js';
import type { NotificationKind, NotificationView } from '../domain/email-sender.port.js';
import { ListNotifications } from '../queries/list-notifications/list-notifications.query.js';

export class NotificationDto implements NotificationView {
  @ApiProperty({ format: 'uuid' }) notificationId: string;
  @ApiProperty({ example: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' }) orderId: string;
  @ApiProperty({ enum: ['CONFIRMATION', 'FAILURE'] }) kind: NotificationKind;
  @ApiProperty({ example: 'ada@example.com', description: 'Empty once the customer is erased' })
  recipient: string;
  @ApiProperty({ example: 'Your order is confirmed' }) subject: string;
  @ApiProperty({ enum: ['PENDING', 'SENT', 'SKIPPED'] }) status: 'PENDING' | 'SENT' | 'SKIPPED';
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) sentAt: string | null;
  @ApiProperty({ nullable: true, type: String }) skipReason: string | null;
}

@ApiTags('notifications')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiDoc(
    'Notifications sent through the (simulated) e-mail sender, newest first',
    "An admin sees all (or one order's); a customer must name one of its orders in `orderId`.",
  )
  @ApiOkResponse({ type: NotificationDto, isArray: true })
  @ApiProblems(
    [400, 'orderId is not valid'],
    [403, 'A customer did not name an order'],
    [404, 'Unknown order, or not one of the customer'],
  )
  async list(
    @Query() { orderId }: OrderIdFilterDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NotificationView[]> {
    await this.queryBus.execute(new CanSeeOrder(principal, orderId));
    return this.queryBus.execute(new ListNotifications(orderId));
  }
}
