import { Module } from '@nestjs/common';
import { ChargePaymentHandler } from './commands/charge-payment/charge-payment.handler.js';
import { ProcessPaymentHandler } from './commands/process-payment/process-payment.handler.js';
import { RefundPaymentHandler } from './commands/refund-payment/refund-payment.handler.js';
import { PAYMENT_GATEWAY } from './domain/payment-gateway.port.js';
import { PaymentsController } from './http/payments.controller.js';
import { PaymentRepository } from './infrastructure/payment.repository.js';
import { SimulatedPaymentGateway } from './infrastructure/simulated-payment-gateway.js';
import { ListPaymentsHandler } from './queries/list-payments/list-payments.handler.js';

const commandHandlers = [ProcessPaymentHandler, ChargePaymentHandler, RefundPaymentHandler];
const queryHandlers = [ListPaymentsHandler];

@Module({
  controllers: [PaymentsController],
  providers: [
    PaymentRepository,
    { provide: PAYMENT_GATEWAY, useClass: SimulatedPaymentGateway },
    ...commandHandlers,
    ...queryHandlers,
  ],
})
export class PaymentsModule {}
