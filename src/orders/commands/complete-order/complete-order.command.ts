import { TracedCommand } from '../../../messaging/traced-command.js';

/** The order's payment succeeded. */
export class CompleteOrder extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
  ) {
    super();
  }
}
