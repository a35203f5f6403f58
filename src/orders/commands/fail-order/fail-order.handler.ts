import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { FailOrder } from './fail-order.command.js';

@CommandHandler(FailOrder)
export class FailOrderHandler implements ICommandHandler<FailOrder, void> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId, reason }: FailOrder): Promise<void> {
    await this.orders.update(orderId, (o) => o.fail(reason, new Date().toISOString()));
  }
}
