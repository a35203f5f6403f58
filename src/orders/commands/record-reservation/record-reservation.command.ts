import { TracedCommand } from '../../../messaging/traced-command.js';

/** One line of the order is reserved in the inventory. */
export class RecordReservation extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly productId: string,
  ) {
    super();
  }
}
