import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { TimeOutOrder } from './time-out-order.command.js';

@CommandHandler(TimeOutOrder)
export class TimeOutOrderHandler implements ICommandHandler<TimeOutOrder, boolean> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId, status, updatedAt, timeoutMs }: TimeOutOrder): Promise<boolean> {
    return this.orders.update(orderId, (order) => {
      if (order.status !== status || order.snapshot.updatedAt !== updatedAt) return false;
      order.fail(
        `Timed out: no progress in ${status} for ${timeoutMs} ms`,
        new Date().toISOString(),
      );
      return true;
    });
  }
}
