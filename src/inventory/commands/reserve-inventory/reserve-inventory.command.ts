import { TracedCommand } from '../../../messaging/traced-command.js';
import type { StockLine } from '../../domain/reservation.js';

/** Reserve every line of an order, all or nothing. */
export class ReserveInventory extends TracedCommand {
  constructor(
    readonly orderId: string,
    readonly lines: StockLine[],
  ) {
    super();
  }
}
