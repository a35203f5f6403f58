import { TracedCommand } from '../../../messaging/traced-command.js';

/** Send the pending payment to the gateway and record the outcome. */
export class ChargePayment extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
  ) {
    super();
  }
}
