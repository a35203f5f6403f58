import { Query } from '@nestjs/cqrs';

export interface MinuteOfOrders {
  /** The minute, 'YYYY-MM-DDTHH:MM' (UTC). */
  minute: string;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface OrderActivity {
  /** Every status with how many orders are in it (0 for none). */
  ordersByStatus: Record<string, number>;
  /** Orders that ended in each of the last `minutes` minutes, oldest first, this one last. */
  perMinute: MinuteOfOrders[];
}

/** How many orders are in each status, and how many ended per minute lately (for operators). */
export class GetOrderActivity extends Query<OrderActivity> {
  constructor(
    readonly minutes: number,
    readonly now: Date = new Date(),
  ) {
    super();
  }
}
