import {
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CancelOrderHandler } from './commands/cancel-order/cancel-order.handler.js';
import { CompleteOrderHandler } from './commands/complete-order/complete-order.handler.js';
import { FailOrderHandler } from './commands/fail-order/fail-order.handler.js';
import { MarkPaymentProcessingHandler } from './commands/mark-payment-processing/mark-payment-processing.handler.js';
import { PlaceOrderHandler } from './commands/place-order/place-order.handler.js';
import { RecordReservationHandler } from './commands/record-reservation/record-reservation.handler.js';
import { ValidateOrderHandler } from './commands/validate-order/validate-order.handler.js';
import { OrderEventStream } from './http/order-event-stream.js';
import { OrdersController } from './http/orders.controller.js';
import { IdempotencyKeys } from './infrastructure/idempotency-keys.js';
import { OrderDeadlineWatcher } from './infrastructure/order-deadline.watcher.js';
import { OrderMetrics } from './infrastructure/order-metrics.js';
import { OrderRepository } from './infrastructure/order.repository.js';
import { TimeOutOrderHandler } from './commands/time-out-order/time-out-order.handler.js';
import { CanSeeOrderHandler } from './queries/can-see-order/can-see-order.handler.js';
import { GetOrderActivityHandler } from './queries/get-order-activity/get-order-activity.handler.js';
import { GetOrderEventsHandler } from './queries/get-order-events/get-order-events.handler.js';
import { GetOrderHandler } from './queries/get-order/get-order.handler.js';
import { ListOrdersHandler } from './queries/list-orders/list-orders.handler.js';
import { OrderProgress } from './queries/order-progress/order-progress.js';
import { OrderFulfilmentSaga } from './sagas/order-fulfilment.saga.js';

const commandHandlers = [
  PlaceOrderHandler,
  ValidateOrderHandler,
  RecordReservationHandler,
  MarkPaymentProcessingHandler,
  CompleteOrderHandler,
  FailOrderHandler,
  CancelOrderHandler,
  TimeOutOrderHandler,
];
const queryHandlers = [
  GetOrderHandler,
  ListOrdersHandler,
  GetOrderEventsHandler,
  GetOrderActivityHandler,
  CanSeeOrderHandler,
];
const sagas = [OrderFulfilmentSaga];

@Module({
  controllers: [OrdersController],
  providers: [
    OrderRepository,
    OrderMetrics,
    OrderDeadlineWatcher,
    IdempotencyKeys,
    OrderProgress,
    OrderEventStream,
    ...commandHandlers,
    ...queryHandlers,
    ...sagas,
  ],
})
export class OrdersModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly deadlines: OrderDeadlineWatcher) {}

  onApplicationBootstrap(): void {
    this.deadlines.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.deadlines.stop();
  }
}
