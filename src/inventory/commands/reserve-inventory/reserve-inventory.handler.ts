import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { ReserveInventory } from './reserve-inventory.command.js';

@CommandHandler(ReserveInventory)
export class ReserveInventoryHandler implements ICommandHandler<ReserveInventory, void> {
  constructor(private readonly stock: StockRepository) {}

  async execute({ orderId, lines }: ReserveInventory): Promise<void> {
    await this.stock.reserve(orderId, lines);
  }
}
