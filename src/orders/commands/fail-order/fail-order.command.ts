import { TracedCommand } from '../../../messaging/traced-command.js';

/** The order cannot be fulfilled. Whatever was reserved has been released before this. */
export class FailOrder extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
