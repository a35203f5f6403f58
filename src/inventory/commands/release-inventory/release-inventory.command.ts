import { TracedCommand } from '../../../messaging/traced-command.js';

/** Give back whatever the order has reserved (compensation or cancellation). */
export class ReleaseInventory extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
