import { CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { toMinor } from '../../../common/money.js';
import { AppConfig } from '../../../config/app-config.js';
import { GetProducts } from '../../../inventory/queries/get-products/get-products.query.js';
import type { OrderLimits } from '../../domain/order.aggregate.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { ValidateOrder } from './validate-order.command.js';

@CommandHandler(ValidateOrder)
export class ValidateOrderHandler implements ICommandHandler<ValidateOrder, void> {
  private readonly limits: OrderLimits;

  constructor(
    private readonly orders: OrderRepository,
    private readonly queryBus: QueryBus,
    config: AppConfig,
  ) {
    this.limits = {
      maxUnitPrice: toMinor(config.maxUnitPrice),
      maxOrderTotal: toMinor(config.maxOrderTotal),
    };
  }

  async execute({ orderId }: ValidateOrder): Promise<void> {
    const order = await this.orders.find(orderId);
    if (!order || order.status !== 'PENDING') return;
    const products = await this.queryBus.execute(
      new GetProducts(order.items.map((line) => line.productId)),
    );
    const catalog = new Map(
      products.map((p) => [p.productId, { unitPrice: toMinor(p.unitPrice) }]),
    );
    await this.orders.update(orderId, (o) =>
      o.validate(catalog, this.limits, new Date().toISOString()),
    );
  }
}
