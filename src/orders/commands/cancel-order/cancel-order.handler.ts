import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { OrderState } from '../../domain/order.aggregate.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { CancelOrder } from './cancel-order.command.js';

@CommandHandler(CancelOrder)
export class CancelOrderHandler implements ICommandHandler<CancelOrder, OrderState> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId, reason }: CancelOrder): Promise<OrderState> {
    return this.orders.update(orderId, (o) => {
      o.cancel(reason, new Date().toISOString());
      return o.snapshot;
    });
  }
}
