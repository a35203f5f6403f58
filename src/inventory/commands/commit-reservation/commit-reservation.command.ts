import { Command } from '@nestjs/cqrs';

/** The order completed: its reserved stock becomes sold. */
export class CommitReservation extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}
