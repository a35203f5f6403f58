import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { CommitReservation } from './commit-reservation.command.js';

@CommandHandler(CommitReservation)
export class CommitReservationHandler implements ICommandHandler<CommitReservation, void> {
  constructor(private readonly stock: StockRepository) {}

  async execute({ orderId }: CommitReservation): Promise<void> {
    await this.stock.commit(orderId);
  }
}
