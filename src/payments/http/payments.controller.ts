import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { mayList } from '../../orders/queries/get-order/visible-order.js';
import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { OrderIdFilterDto } from '../../common/order-id-filter.dto.js';
import type { PaymentView } from '../domain/payment-gateway.port.js';
import { ListPayments } from '../queries/list-payments/list-payments.query.js';

@ApiTags('payments')
@Controller('payments')
export class PaymentsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Payments made through the (simulated) gateway, newest first' })
  async list(
    @Query() { orderId }: OrderIdFilterDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PaymentView[]> {
    await mayList(this.queryBus, principal, orderId);
    return this.queryBus.execute(new ListPayments(orderId));
  }
}
