import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { MarkPaymentProcessing } from './mark-payment-processing.command.js';

@CommandHandler(MarkPaymentProcessing)
export class MarkPaymentProcessingHandler implements ICommandHandler<MarkPaymentProcessing, void> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId }: MarkPaymentProcessing): Promise<void> {
    await this.orders.update(orderId, (o) => o.markPaymentProcessing(new Date().toISOString()));
  }
}
