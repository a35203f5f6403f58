import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AppConfig } from '../../config/app-config.js';
import { TimeOutOrder } from '../commands/time-out-order/time-out-order.command.js';
import { OrderRepository } from './order.repository.js';

/**
 * Saga deadlines. Every order in a non-terminal status gets ORDER_STEP_TIMEOUT_MS to move on;
 * past that it is failed (TimeOutOrder), and the saga compensates: its stock is released, and a
 * charge that succeeds later is refunded. The watcher only reads the orders table, so any number
 * of instances may run it; the conditional TimeOutOrder fails an order once.
 */
@Injectable()
export class OrderDeadlineWatcher {
  private readonly logger = new Logger(OrderDeadlineWatcher.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly orders: OrderRepository,
    private readonly commandBus: CommandBus,
    private readonly config: AppConfig,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Fails every order past its deadline now; returns how many. */
  async sweep(): Promise<number> {
    const timeoutMs = this.config.orderStepTimeoutMs;
    const cutoff = new Date(Date.now() - timeoutMs).toISOString();
    const overdue = await this.orders.overdue(cutoff, 100);
    let failed = 0;
    for (const order of overdue) {
      if (this.stopped) break;
      const done = await this.commandBus.execute(
        new TimeOutOrder(order.id, order.status, order.updatedAt, timeoutMs),
      );
      if (done) failed++;
    }
    if (failed > 0) this.logger.warn(`Failed ${failed} order(s) stuck for over ${timeoutMs} ms`);
    return failed;
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = Math.min(5000, Math.max(50, Math.floor(this.config.orderStepTimeoutMs / 4)));
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error(`Deadline sweep failed: ${String(error)}`))
        .finally(() => this.schedule());
    }, every);
    this.timer.unref();
  }
}
