import type { QueryBus } from '@nestjs/cqrs';
import { mayActFor, type Principal } from '../../../auth/principal.js';
import { OrderError } from '../../domain/order.errors.js';
import type { OrderView } from '../order.view.js';
import { GetOrder } from './get-order.query.js';

/**
 * The order, if this principal may see it: an admin any order, a customer its own. Another
 * customer's order is answered exactly like an unknown one (404), so a customer cannot even learn
 * which order ids exist. Other modules ask through CanSeeOrder for what belongs to an order.
 */
export async function visibleOrder(
  queryBus: QueryBus,
  id: string,
  principal: Principal,
): Promise<OrderView> {
  const order = await queryBus.execute<GetOrder, OrderView>(new GetOrder(id));
  if (!mayActFor(principal, order.customerId)) throw OrderError.notFound(id);
  return order;
}
