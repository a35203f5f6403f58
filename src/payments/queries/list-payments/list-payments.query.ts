import { Query } from '@nestjs/cqrs';
import type { PaymentView } from '../../domain/payment-gateway.port.js';

export class ListPayments extends Query<PaymentView[]> {
  constructor(readonly orderId?: string) {
    super();
  }
}
