import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuthError } from '../../../auth/auth.errors.js';
import { visibleOrder } from '../get-order/visible-order.js';
import { CanSeeOrder } from './can-see-order.query.js';

@QueryHandler(CanSeeOrder)
export class CanSeeOrderHandler implements IQueryHandler<CanSeeOrder, void> {
  constructor(private readonly queryBus: QueryBus) {}

  async execute({ principal, orderId }: CanSeeOrder): Promise<void> {
    if (principal.role === 'admin') return;
    if (orderId === undefined)
      throw AuthError.forbidden('list them without ?orderId= of your order');
    await visibleOrder(this.queryBus, orderId, principal);
  }
}
