import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { PaymentView } from '../../domain/payment-gateway.port.js';
import { PaymentRepository } from '../../infrastructure/payment.repository.js';
import { ListPayments } from './list-payments.query.js';

@QueryHandler(ListPayments)
export class ListPaymentsHandler implements IQueryHandler<ListPayments, PaymentView[]> {
  constructor(private readonly payments: PaymentRepository) {}

  execute({ orderId }: ListPayments): Promise<PaymentView[]> {
    return this.payments.list(orderId);
  }
}
