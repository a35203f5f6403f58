import { TracedCommand } from '../../../messaging/traced-command.js';

/** Check the order's lines against the catalog and price them. */
export class ValidateOrder extends TracedCommand {
  constructor(readonly orderId: string) {
    super();
  }
}
