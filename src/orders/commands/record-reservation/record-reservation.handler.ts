import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { RecordReservation } from './record-reservation.command.js';

@CommandHandler(RecordReservation)
export class RecordReservationHandler implements ICommandHandler<RecordReservation, void> {
  constructor(private readonly orders: OrderRepository) {}

  async execute({ orderId, productId }: RecordReservation): Promise<void> {
    await this.orders.update(orderId, (o) =>
      o.recordReservation(productId, new Date().toISOString()),
    );
  }
}
