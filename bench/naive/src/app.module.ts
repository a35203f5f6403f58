import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { InventoryController, OrdersController, StatsController } from './controllers.js';
import {
  CommitReservationHandler,
  CompleteOrderHandler,
  FailOrderHandler,
  GetOrderHandler,
  NotificationsHandler,
  PlaceOrderHandler,
  ProcessPaymentHandler,
  ReserveInventoryHandler,
  UpsertProductHandler,
  ValidateOrderHandler,
} from './handlers.js';
import { OrderSagas } from './order.saga.js';
import { Catalog, NotificationStore, OrderRepository } from './stores.js';

const commandHandlers = [
  PlaceOrderHandler,
  ValidateOrderHandler,
  ReserveInventoryHandler,
  ProcessPaymentHandler,
  CompleteOrderHandler,
  CommitReservationHandler,
  FailOrderHandler,
  UpsertProductHandler,
];
const eventHandlers = [NotificationsHandler];
const queryHandlers = [GetOrderHandler];
const sagas = [OrderSagas];

@Module({
  imports: [CqrsModule.forRoot()],
  controllers: [OrdersController, InventoryController, StatsController],
  providers: [
    OrderRepository,
    Catalog,
    NotificationStore,
    ...commandHandlers,
    ...eventHandlers,
    ...queryHandlers,
    ...sagas,
  ],
})
export class AppModule {}
