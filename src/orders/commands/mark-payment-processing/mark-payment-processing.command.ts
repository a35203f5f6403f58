import { TracedCommand } from '../../../messaging/traced-command.js';

/** The payment for the order has been initiated. */
export class MarkPaymentProcessing extends TracedCommand {
  constructor(readonly orderId: string) {
    super();
  }
}
