import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { CanSeeOrder } from '../../orders/queries/can-see-order/can-see-order.query.js';
import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiDoc, ApiProblems } from '../../common/openapi.js';
import { OrderIdFilterDto } from '../../common/order-id-filter.dto.js';
import { PaymentStatus, type PaymentView } from '../domain/payment-gateway.port.js';
import { ListPayments } from '../queries/list-payments/list-payments.query.js';

export class PaymentDto implements PaymentView {
  @ApiProperty({ format: 'uuid' }) paymentId: string;
  @ApiProperty({ example: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' }) orderId: string;
  @ApiProperty({ example: '175.00' }) amount: string;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ enum: Object.values(PaymentStatus) }) status: PaymentStatus;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

@ApiTags('payments')
@Controller('payments')
export class PaymentsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiDoc(
    'Payments made through the (simulated) gateway, newest first',
    "An admin sees all (or one order's); a customer must name one of its orders in `orderId`.",
  )
  @ApiOkResponse({ type: PaymentDto, isArray: true })
  @ApiProblems(
    [400, 'orderId is not valid'],
    [403, 'A customer did not name an order'],
    [404, 'Unknown order, or not one of the customer'],
  )
  async list(
    @Query() { orderId }: OrderIdFilterDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PaymentView[]> {
    await this.queryBus.execute(new CanSeeOrder(principal, orderId));
    return this.queryBus.execute(new ListPayments(orderId));
  }
}
