import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  PAYMENT_GATEWAY,
  PaymentStatus,
  type PaymentGateway,
} from '../../domain/payment-gateway.port.js';
import { PaymentRepository } from '../../infrastructure/payment.repository.js';
import { RefundPayment } from './refund-payment.command.js';

@CommandHandler(RefundPayment)
export class RefundPaymentHandler implements ICommandHandler<RefundPayment, void> {
  private readonly logger = new Logger(RefundPaymentHandler.name);

  constructor(
    private readonly payments: PaymentRepository,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
  ) {}

  async execute({ orderId, reason }: RefundPayment): Promise<void> {
    const payment = await this.payments.findByOrder(orderId);
    if (payment?.status !== PaymentStatus.COMPLETED) return;
    await this.gateway.refund(payment.payment_id);
    await this.payments.markRefunded(payment.payment_id, reason);
    this.logger.log(`Refunded payment ${payment.payment_id} of order ${orderId}: ${reason}`);
  }
}
