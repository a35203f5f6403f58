import { Query } from '@nestjs/cqrs';
import type { Principal } from '../../../auth/principal.js';

/**
 * Whether `principal` may see what belongs to an order (its payments, its e-mails): an admin
 * that of every order, a customer only that of one of its own orders, named by `orderId`. Answers
 * nothing when it may; otherwise it refuses as the orders' own endpoints do: 403 when a customer
 * names no order, 404 (ORDER_NOT_FOUND) when the order is unknown or another customer's.
 */
export class CanSeeOrder extends Query<void> {
  constructor(
    readonly principal: Principal,
    readonly orderId: string | undefined,
  ) {
    super();
  }
}
