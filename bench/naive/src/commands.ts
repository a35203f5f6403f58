import type { OrderLine } from './events.js';

export class PlaceOrderCommand {
  constructor(
    readonly customerId: string,
    readonly customerEmail: string | null,
    readonly items: OrderLine[],
  ) {}
}

export class ValidateOrderCommand {
  constructor(readonly orderId: string) {}
}

export class ReserveInventoryCommand {
  constructor(readonly orderId: string) {}
}

export class ProcessPaymentCommand {
  constructor(readonly orderId: string) {}
}

export class CompleteOrderCommand {
  constructor(readonly orderId: string) {}
}

export class CommitReservationCommand {
  constructor(readonly orderId: string) {}
}

export class FailOrderCommand {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {}
}

export class UpsertProductCommand {
  constructor(
    readonly productId: string,
    readonly name: string,
    readonly unitPrice: number,
    readonly available: number,
  ) {}
}

export class GetOrderQuery {
  constructor(readonly orderId: string) {}
}
