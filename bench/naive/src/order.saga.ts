import { Injectable } from '@nestjs/common';
import { ofType, Saga, type ICommand, type IEvent } from '@nestjs/cqrs';
import { filter, map, type Observable } from 'rxjs';
import {
  CommitReservationCommand,
  CompleteOrderCommand,
  FailOrderCommand,
  ProcessPaymentCommand,
  ReserveInventoryCommand,
  ValidateOrderCommand,
} from './commands.js';
import {
  InventoryInsufficient,
  InventoryReserved,
  OrderCompleted,
  OrderCreated,
  OrderValidated,
  PaymentCompleted,
} from './events.js';

/** The workflow as @Saga() pipelines: each maps one event to the next command. */
@Injectable()
export class OrderSagas {
  @Saga()
  orderCreated = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCreated),
      map((event) => new ValidateOrderCommand(event.orderId)),
    );

  @Saga()
  orderValidated = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderValidated),
      filter((event) => event.isValid),
      map((event) => new ReserveInventoryCommand(event.orderId)),
    );

  @Saga()
  inventoryReserved = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(InventoryReserved),
      map((event) => new ProcessPaymentCommand(event.orderId)),
    );

  @Saga()
  inventoryInsufficient = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(InventoryInsufficient),
      map((event) => new FailOrderCommand(event.orderId, `Not enough stock of ${event.productId}`)),
    );

  @Saga()
  paymentCompleted = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(PaymentCompleted),
      map((event) => new CompleteOrderCommand(event.orderId)),
    );

  @Saga()
  orderCompleted = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCompleted),
      map((event) => new CommitReservationCommand(event.orderId)),
    );
}
