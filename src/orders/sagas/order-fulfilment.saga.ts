import { Injectable } from '@nestjs/common';
import { ofType, Saga, type ICommand, type IEvent } from '@nestjs/cqrs';
import { concatMap, map, type Observable } from 'rxjs';
import { CommitReservation } from '../../inventory/commands/commit-reservation/commit-reservation.command.js';
import { ReleaseInventory } from '../../inventory/commands/release-inventory/release-inventory.command.js';
import { ReserveInventory } from '../../inventory/commands/reserve-inventory/reserve-inventory.command.js';
import { InventoryInsufficient } from '../../inventory/events/inventory-insufficient.event.js';
import { InventoryReserved } from '../../inventory/events/inventory-reserved.event.js';
import { ChargePayment } from '../../payments/commands/charge-payment/charge-payment.command.js';
import { ProcessPayment } from '../../payments/commands/process-payment/process-payment.command.js';
import { PaymentCompleted } from '../../payments/events/payment-completed.event.js';
import { PaymentFailed } from '../../payments/events/payment-failed.event.js';
import { PaymentInitiated } from '../../payments/events/payment-initiated.event.js';
import { CompleteOrder } from '../commands/complete-order/complete-order.command.js';
import { FailOrder } from '../commands/fail-order/fail-order.command.js';
import { MarkPaymentProcessing } from '../commands/mark-payment-processing/mark-payment-processing.command.js';
import { RecordReservation } from '../commands/record-reservation/record-reservation.command.js';
import { ValidateOrder } from '../commands/validate-order/validate-order.command.js';
import { OrderCancelled } from '../events/order-cancelled.event.js';
import { OrderCompleted } from '../events/order-completed.event.js';
import { OrderCreated } from '../events/order-created.event.js';
import { OrderFailed } from '../events/order-failed.event.js';
import { OrderProcessingStarted } from '../events/order-processing-started.event.js';
import { OrderValidated } from '../events/order-validated.event.js';

/**
 * The order workflow: each saga maps events to commands and does no I/O. The runtime runs a
 * saga over one stored event at a time and executes the commands it emits in order, awaiting each.
 *
 *   OrderCreated            -> ValidateOrder (an unknown product fails the order right there)
 *   OrderValidated (valid)  -> ReserveInventory (all lines, one transaction)
 *   InventoryReserved       -> RecordReservation; the last line raises OrderProcessingStarted
 *   InventoryInsufficient   -> FailOrder
 *   OrderProcessingStarted  -> ProcessPayment
 *   PaymentInitiated        -> MarkPaymentProcessing, then ChargePayment (the gateway call)
 *   PaymentCompleted        -> CompleteOrder
 *   PaymentFailed           -> ReleaseInventory, then FailOrder (compensation first)
 *   OrderCompleted          -> CommitReservation (reserved stock becomes sold)
 *   OrderCancelled          -> ReleaseInventory
 *   OrderFailed             -> ReleaseInventory (compensation whatever the cause, such as a
 *                              deadline; a no-op when nothing is reserved any more)
 */
@Injectable()
export class OrderFulfilmentSaga {
  @Saga()
  orderCreated = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCreated),
      map((e) => new ValidateOrder(e.orderId)),
    );

  @Saga()
  orderValidated = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderValidated),
      concatMap((e) =>
        e.isValid
          ? [
              new ReserveInventory(
                e.orderId,
                e.items.map(({ productId, quantity }) => ({ productId, quantity })),
              ),
            ]
          : [],
      ),
    );

  @Saga()
  inventoryReserved = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(InventoryReserved),
      map((e) => new RecordReservation(e.orderId, e.productId)),
    );

  @Saga()
  inventoryInsufficient = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(InventoryInsufficient),
      map((e) => new FailOrder(e.orderId, e.reason)),
    );

  @Saga()
  processingStarted = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderProcessingStarted),
      map((e) => new ProcessPayment(e.orderId, e.totalAmount, e.currency)),
    );

  @Saga()
  paymentInitiated = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(PaymentInitiated),
      concatMap((e) => [
        new MarkPaymentProcessing(e.orderId),
        new ChargePayment(e.orderId, e.paymentId),
      ]),
    );

  @Saga()
  paymentCompleted = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(PaymentCompleted),
      map((e) => new CompleteOrder(e.orderId, e.paymentId)),
    );

  @Saga()
  paymentFailed = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(PaymentFailed),
      concatMap((e) => [
        new ReleaseInventory(e.orderId, `payment failed: ${e.reason}`),
        new FailOrder(e.orderId, `Payment failed: ${e.reason}`),
      ]),
    );

  @Saga()
  orderCompleted = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCompleted),
      map((e) => new CommitReservation(e.orderId)),
    );

  @Saga()
  orderCancelled = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderCancelled),
      map((e) => new ReleaseInventory(e.orderId, `order cancelled: ${e.reason}`)),
    );

  @Saga()
  orderFailed = (events$: Observable<IEvent>): Observable<ICommand> =>
    events$.pipe(
      ofType(OrderFailed),
      map((e) => new ReleaseInventory(e.orderId, `order failed: ${e.reason}`)),
    );
}
