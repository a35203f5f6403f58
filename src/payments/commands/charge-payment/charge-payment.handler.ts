import { Inject } from '@nestjs/common';
import { CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { crashPoint } from '../../../durable-cqrs/index.js';
import { AppConfig } from '../../../config/app-config.js';
import { GetOrder } from '../../../orders/queries/get-order/get-order.query.js';
import {
  PAYMENT_GATEWAY,
  PaymentGatewayTimeout,
  PaymentStatus,
  type ChargeResult,
  type PaymentGateway,
} from '../../domain/payment-gateway.port.js';
import { PaymentRepository } from '../../infrastructure/payment.repository.js';
import { ChargePayment } from './charge-payment.command.js';

const CLOSED = ['CANCELLED', 'FAILED'];

/**
 * Calls the gateway outside any transaction, then records the result. A call that throws or does
 * not answer within PAYMENT_TIMEOUT_MS fails this delivery, which the runtime retries with the
 * same idempotency key, so the gateway never charges twice.
 *
 * An order closed (cancelled, timed out) before its charge went through is not charged: its key
 * is voided at the gateway, so that an earlier call still under way (one that timed out here)
 * cannot charge after this records the payment failed. A charge the gateway made already is
 * recorded as completed, and CompleteOrder refunds it because the order is closed.
 */
@CommandHandler(ChargePayment)
export class ChargePaymentHandler implements ICommandHandler<ChargePayment, void> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly queryBus: QueryBus,
    private readonly config: AppConfig,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
  ) {}

  async execute({ orderId, paymentId }: ChargePayment): Promise<void> {
    const payment = await this.payments.findByOrder(orderId);
    if (payment?.payment_id !== paymentId || payment.status !== PaymentStatus.PENDING) return;
    const order = await this.queryBus.execute(new GetOrder(orderId));
    let result: ChargeResult;
    const request = {
      idempotencyKey: paymentId,
      amount: Number(payment.amount),
      currency: payment.currency,
    };
    if (CLOSED.includes(order.status)) {
      result = (await this.withTimeout(this.gateway.void(request))) ?? {
        status: 'declined',
        reason: `order ${order.status.toLowerCase()} before it was charged`,
      };
    } else {
      result = await this.withTimeout(this.gateway.charge(request));
    }
    crashPoint('payment-after-charge');
    await this.payments.settle(
      payment,
      result.status === 'succeeded' ? { ok: true } : { ok: false, reason: result.reason },
    );
  }

  private async withTimeout<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PaymentGatewayTimeout(this.config.paymentTimeoutMs)),
        this.config.paymentTimeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
