import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AppConfig } from '../../../config/app-config.js';
import { ORDER_STATUSES, OrderStatus, TERMINAL_STATUSES } from '../../domain/order-status.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import {
  GetOrderActivity,
  type MinuteOfOrders,
  type OrderActivity,
} from './get-order-activity.query.js';

const MINUTE_MS = 60_000;

@QueryHandler(GetOrderActivity)
export class GetOrderActivityHandler implements IQueryHandler<GetOrderActivity, OrderActivity> {
  constructor(
    private readonly orders: OrderRepository,
    private readonly config: AppConfig,
  ) {}

  async execute({ minutes, now }: GetOrderActivity): Promise<OrderActivity> {
    const firstMinute =
      Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
    // An order that does not move on is timed out after ORDER_STEP_TIMEOUT_MS per step (four
    // steps), so every order that ended in the window was created at most this long before it.
    const lifetimeMs = Math.max(60 * MINUTE_MS, 5 * this.config.orderStepTimeoutMs);
    const [counts, ended] = await Promise.all([
      this.orders.countByStatus(),
      this.orders.endedPerMinute(
        TERMINAL_STATUSES,
        new Date(firstMinute).toISOString(),
        new Date(firstMinute - lifetimeMs).toISOString(),
      ),
    ]);
    const ordersByStatus: Record<string, number> = Object.fromEntries(
      ORDER_STATUSES.map((status) => [status, 0]),
    );
    for (const { status, count } of counts) ordersByStatus[status] = count;
    const perMinute: MinuteOfOrders[] = Array.from({ length: minutes }, (_, i) => ({
      minute: new Date(firstMinute + i * MINUTE_MS).toISOString().slice(0, 16),
      completed: 0,
      failed: 0,
      cancelled: 0,
    }));
    const byMinute = new Map(perMinute.map((entry) => [entry.minute, entry]));
    for (const { minute, status, count } of ended) {
      const entry = byMinute.get(minute);
      if (!entry) continue;
      if (status === OrderStatus.COMPLETED) entry.completed += count;
      else if (status === OrderStatus.FAILED) entry.failed += count;
      else entry.cancelled += count;
    }
    return { ordersByStatus, perMinute };
  }
}
