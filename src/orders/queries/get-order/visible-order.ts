import type { QueryBus } from '@nestjs/cqrs';
import { AuthError } from '../../../auth/auth.errors.js';
import { mayActFor, type Principal } from '../../../auth/principal.js';
import { OrderError } from '../../domain/order.errors.js';
import type { OrderView } from '../order.view.js';
import { GetOrder } from './get-order.query.js';

/**
 * The order, if this principal may see it: an admin any order, a customer its own. Another
 * customer's order is answered exactly like an unknown one (404), so a customer cannot even learn
 * which order ids exist. Other modules use it for what belongs to an order (payments, e-mails).
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

/**
 * Whether this principal may list what belongs to orders (payments, e-mails): an admin all of
 * it, a customer only that of one of its own orders, named by `orderId`.
 */
export async function mayList(
  queryBus: QueryBus,
  principal: Principal,
  orderId: string | undefined,
): Promise<void> {
  if (principal.role === 'admin') return;
  if (orderId === undefined) throw AuthError.forbidden('list them without ?orderId= of your order');
  await visibleOrder(queryBus, orderId, principal);
}
