import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StockRepository } from '../../infrastructure/stock.repository.js';
import { ReleaseInventory } from './release-inventory.command.js';

@CommandHandler(ReleaseInventory)
export class ReleaseInventoryHandler implements ICommandHandler<ReleaseInventory, void> {
  constructor(private readonly stock: StockRepository) {}

  async execute({ orderId, reason }: ReleaseInventory): Promise<void> {
    await this.stock.release(orderId, reason);
  }
}
