/** The workflow's events, named as in the service. Plain classes: the EventBus routes by class. */

export interface OrderLine {
  productId: string;
  quantity: number;
}

export class OrderCreated {
  constructor(
    readonly orderId: string,
    readonly customerId: string,
    readonly items: OrderLine[],
  ) {}
}

export class OrderValidated {
  constructor(
    readonly orderId: string,
    readonly isValid: boolean,
    /** Minor units; null when the order is not valid. */
    readonly totalAmount: number | null,
    readonly reason: string | null,
  ) {}
}

export class InventoryReserved {
  constructor(
    readonly orderId: string,
    readonly items: OrderLine[],
  ) {}
}

export class InventoryInsufficient {
  constructor(
    readonly orderId: string,
    readonly productId: string,
  ) {}
}

export class OrderProcessingStarted {
  constructor(
    readonly orderId: string,
    readonly amount: number,
  ) {}
}

export class PaymentCompleted {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: number,
  ) {}
}

export class OrderCompleted {
  constructor(readonly orderId: string) {}
}

export class OrderFailed {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {}
}

export class OrderConfirmationSent {
  constructor(readonly orderId: string) {}
}

export class OrderFailureNotificationSent {
  constructor(readonly orderId: string) {}
}
