import { CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import { GetOrder } from '../../../orders/queries/get-order/get-order.query.js';
import { PaymentRepository } from '../../infrastructure/payment.repository.js';
import { ProcessPayment } from './process-payment.command.js';

/**
 * Records the intent to charge (a PENDING payment with its idempotency key) and raises
 * PaymentInitiated. The charge itself is ChargePayment, outside any transaction.
 */
@CommandHandler(ProcessPayment)
export class ProcessPaymentHandler implements ICommandHandler<ProcessPayment, void> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly queryBus: QueryBus,
  ) {}

  async execute({ orderId, amount, currency }: ProcessPayment): Promise<void> {
    if (await this.payments.findByOrder(orderId)) return;
    const order = await this.queryBus.execute(new GetOrder(orderId));
    if (order.status !== 'INVENTORY_RESERVED') return;
    await this.payments.initiate(orderId, toMinor(amount), currency);
  }
}
