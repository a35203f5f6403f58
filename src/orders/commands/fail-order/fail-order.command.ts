import { Command } from '@nestjs/cqrs';

/** The order cannot be fulfilled. Whatever was reserved has been released before this. */
export class FailOrder extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
