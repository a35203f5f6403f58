import { Command } from '@nestjs/cqrs';

/** Give back whatever the order has reserved (compensation or cancellation). */
export class ReleaseInventory extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
