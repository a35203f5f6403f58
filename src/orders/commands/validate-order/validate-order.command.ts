import { Command } from '@nestjs/cqrs';

/** Check the order's lines against the catalog and price them. */
export class ValidateOrder extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}
