import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RefundPayment } from '../../../payments/commands/refund-payment/refund-payment.command.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { CompleteOrder } from './complete-order.command.js';

/**
 * Completes the order. A payment that succeeds after the order was cancelled or failed (a late
 * answer) is refunded instead: the order stays as it is.
 */
@CommandHandler(CompleteOrder)
export class CompleteOrderHandler implements ICommandHandler<CompleteOrder, void> {
  constructor(
    private readonly orders: OrderRepository,
    private readonly commandBus: CommandBus,
  ) {}

  async execute({ orderId, paymentId }: CompleteOrder): Promise<void> {
    const outcome = await this.orders.update(orderId, (o) => ({
      result: o.complete(paymentId, new Date().toISOString()),
      status: o.status,
    }));
    if (outcome.result === 'order-closed') {
      await this.commandBus.execute(
        new RefundPayment(orderId, `payment succeeded after the order was ${outcome.status}`),
      );
    }
  }
}
