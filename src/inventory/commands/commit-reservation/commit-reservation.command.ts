import { TracedCommand } from '../../../messaging/traced-command.js';

/** The order completed: its reserved stock becomes sold. */
export class CommitReservation extends TracedCommand {
  constructor(readonly orderId: string) {
    super();
  }
}
