import { Command } from '@nestjs/cqrs';

/**
 * The order has stayed in one status past its deadline. It is failed only if it is still exactly
 * as it was seen (same status, same last update); otherwise it moved on meanwhile.
 */
export class TimeOutOrder extends Command<boolean> {
  constructor(
    readonly orderId: string,
    readonly status: string,
    readonly updatedAt: string,
    readonly timeoutMs: number,
  ) {
    super();
  }
}
