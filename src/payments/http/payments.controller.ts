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
  list(@Query() { orderId }: OrderIdFilterDto): Promise<PaymentView[]> {
    return this.queryBus.execute(new ListPayments(orderId));
  }
}
