import { TracedCommand } from '../../../messaging/traced-command.js';

/** Give back a completed charge of an order that was closed before the charge arrived. */
export class RefundPayment extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
