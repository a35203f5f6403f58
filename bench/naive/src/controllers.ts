import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { GetOrderQuery, PlaceOrderCommand, UpsertProductCommand } from './commands.js';
import { PlaceOrderDto, UpsertProductDto } from './dto.js';
import type { toView } from './order.aggregate.js';
import { NotificationStore, OrderRepository } from './stores.js';

type OrderView = ReturnType<typeof toView>;

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  @HttpCode(202)
  async place(
    @Body() body: PlaceOrderDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OrderView> {
    const order: OrderView = await this.commandBus.execute(
      new PlaceOrderCommand(body.customerId, body.customerEmail ?? null, body.items),
    );
    response.location(`/orders/${order.id}`);
    return order;
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<OrderView> {
    return this.queryBus.execute(new GetOrderQuery(id));
  }
}

@Controller('inventory')
export class InventoryController {
  constructor(private readonly commandBus: CommandBus) {}

  @Put(':productId')
  async upsert(@Param('productId') productId: string, @Body() body: UpsertProductDto) {
    const [units, cents = ''] = body.unitPrice.split('.');
    const unitPrice = Number(units) * 100 + Number(cents.padEnd(2, '0'));
    await this.commandBus.execute(
      new UpsertProductCommand(productId, body.name, unitPrice, body.available),
    );
    return { productId, name: body.name, unitPrice: body.unitPrice, available: body.available };
  }
}

/** For the benchmark: how many orders exist and how many have their final notification. */
@Controller()
export class StatsController {
  constructor(
    private readonly orders: OrderRepository,
    private readonly notifications: NotificationStore,
  ) {}

  @Get('stats')
  stats() {
    return {
      orders: this.orders.size,
      notified: this.notifications.sent.size,
      confirmations: this.notifications.confirmations,
      failures: this.notifications.failures,
      lastNotifiedAt: this.notifications.lastSentAt,
    };
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }
}
