import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { NotFoundException } from '@nestjs/common';
import {
  CommandHandler,
  EventBus,
  EventPublisher,
  EventsHandler,
  QueryHandler,
  type ICommandHandler,
  type IEventHandler,
  type IQueryHandler,
} from '@nestjs/cqrs';
import {
  CommitReservationCommand,
  CompleteOrderCommand,
  FailOrderCommand,
  GetOrderQuery,
  PlaceOrderCommand,
  ProcessPaymentCommand,
  ReserveInventoryCommand,
  UpsertProductCommand,
  ValidateOrderCommand,
} from './commands.js';
import {
  InventoryInsufficient,
  InventoryReserved,
  OrderCompleted,
  OrderConfirmationSent,
  OrderFailed,
  OrderFailureNotificationSent,
  PaymentCompleted,
} from './events.js';
import { Order, toView } from './order.aggregate.js';
import { Catalog, NotificationStore, OrderRepository } from './stores.js';

type OrderView = ReturnType<typeof toView>;

function load(repository: OrderRepository, id: string): Order {
  const order = repository.find(id);
  if (!order) throw new NotFoundException(`Order ${id} not found`);
  return order;
}

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand, OrderView> {
  constructor(
    private readonly repository: OrderRepository,
    private readonly publisher: EventPublisher,
  ) {}

  execute(command: PlaceOrderCommand): Promise<OrderView> {
    const order = this.publisher.mergeObjectContext(
      Order.place(randomUUID(), command.customerId, command.customerEmail, command.items),
    );
    this.repository.save(order);
    const view = toView(order.snapshot);
    order.commit();
    return Promise.resolve(view);
  }
}

@CommandHandler(ValidateOrderCommand)
export class ValidateOrderHandler implements ICommandHandler<ValidateOrderCommand> {
  constructor(
    private readonly repository: OrderRepository,
    private readonly catalog: Catalog,
    private readonly publisher: EventPublisher,
  ) {}

  execute(command: ValidateOrderCommand): Promise<void> {
    const order = this.publisher.mergeObjectContext(load(this.repository, command.orderId));
    order.validate(this.catalog.prices(order.items.map((line) => line.productId)));
    this.repository.save(order);
    order.commit();
    return Promise.resolve();
  }
}

@CommandHandler(ReserveInventoryCommand)
export class ReserveInventoryHandler implements ICommandHandler<ReserveInventoryCommand> {
  constructor(
    private readonly catalog: Catalog,
    private readonly repository: OrderRepository,
    private readonly eventBus: EventBus,
  ) {}

  execute(command: ReserveInventoryCommand): Promise<void> {
    const order = load(this.repository, command.orderId);
    const lines = order.items.map(({ productId, quantity }) => ({ productId, quantity }));
    const short = this.catalog.reserve(order.id, lines);
    if (short === null) {
      order.markReserved();
      this.repository.save(order);
      this.eventBus.publish(new InventoryReserved(order.id, lines));
    } else {
      this.eventBus.publish(new InventoryInsufficient(command.orderId, short));
    }
    return Promise.resolve();
  }
}

/** The simulated gateway: no latency, never declines. */
@CommandHandler(ProcessPaymentCommand)
export class ProcessPaymentHandler implements ICommandHandler<ProcessPaymentCommand> {
  constructor(
    private readonly repository: OrderRepository,
    private readonly publisher: EventPublisher,
    private readonly eventBus: EventBus,
  ) {}

  async execute(command: ProcessPaymentCommand): Promise<void> {
    const order = this.publisher.mergeObjectContext(load(this.repository, command.orderId));
    order.startPayment();
    this.repository.save(order);
    order.commit();
    await delay(0);
    this.eventBus.publish(new PaymentCompleted(order.id, randomUUID(), order.totalAmount ?? 0));
  }
}

@CommandHandler(CompleteOrderCommand)
export class CompleteOrderHandler implements ICommandHandler<CompleteOrderCommand> {
  constructor(
    private readonly repository: OrderRepository,
    private readonly publisher: EventPublisher,
  ) {}

  execute(command: CompleteOrderCommand): Promise<void> {
    const order = this.publisher.mergeObjectContext(load(this.repository, command.orderId));
    order.complete();
    this.repository.save(order);
    order.commit();
    return Promise.resolve();
  }
}

@CommandHandler(CommitReservationCommand)
export class CommitReservationHandler implements ICommandHandler<CommitReservationCommand> {
  constructor(private readonly catalog: Catalog) {}

  execute(command: CommitReservationCommand): Promise<void> {
    this.catalog.commit(command.orderId);
    return Promise.resolve();
  }
}

@CommandHandler(FailOrderCommand)
export class FailOrderHandler implements ICommandHandler<FailOrderCommand> {
  constructor(
    private readonly repository: OrderRepository,
    private readonly publisher: EventPublisher,
  ) {}

  execute(command: FailOrderCommand): Promise<void> {
    const order = this.publisher.mergeObjectContext(load(this.repository, command.orderId));
    order.fail(command.reason);
    this.repository.save(order);
    order.commit();
    return Promise.resolve();
  }
}

@CommandHandler(UpsertProductCommand)
export class UpsertProductHandler implements ICommandHandler<UpsertProductCommand> {
  constructor(private readonly catalog: Catalog) {}

  execute(command: UpsertProductCommand): Promise<void> {
    this.catalog.upsert(command.productId, command.name, command.unitPrice, command.available);
    return Promise.resolve();
  }
}

/** The simulated e-mail sender: no latency; records what it sent. */
@EventsHandler(OrderCompleted, OrderFailed)
export class NotificationsHandler implements IEventHandler<OrderCompleted | OrderFailed> {
  constructor(
    private readonly notifications: NotificationStore,
    private readonly eventBus: EventBus,
  ) {}

  async handle(event: OrderCompleted | OrderFailed): Promise<void> {
    await delay(0);
    if (event instanceof OrderCompleted) {
      this.notifications.record(event.orderId, 'confirmation');
      this.eventBus.publish(new OrderConfirmationSent(event.orderId));
    } else {
      this.notifications.record(event.orderId, 'failure');
      this.eventBus.publish(new OrderFailureNotificationSent(event.orderId));
    }
  }
}

@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery, OrderView> {
  constructor(private readonly repository: OrderRepository) {}

  execute(query: GetOrderQuery): Promise<OrderView> {
    const state = this.repository.state(query.orderId);
    if (!state) throw new NotFoundException(`Order ${query.orderId} not found`);
    return Promise.resolve(toView(state));
  }
}
