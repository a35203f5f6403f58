import { MessagingRuntime, newId } from '../../../durable-cqrs/index.js';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CURRENCY } from '../../../common/money.js';
import { Order } from '../../domain/order.aggregate.js';
import { IdempotencyKeys, type ScopedKey } from '../../infrastructure/idempotency-keys.js';
import { OrderRepository } from '../../infrastructure/order.repository.js';
import { toOrderView, type OrderView } from '../../queries/order.view.js';
import { PlaceOrder, type PlaceOrderResult } from './place-order.command.js';

/** The HTTP status POST /orders answers with; stored with an idempotency key for replays. */
const ACCEPTED = 202;

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder, PlaceOrderResult> {
  constructor(
    private readonly orders: OrderRepository,
    private readonly keys: IdempotencyKeys,
    private readonly messaging: MessagingRuntime,
  ) {}

  async execute(command: PlaceOrder): Promise<PlaceOrderResult> {
    this.messaging.assertAcceptingWork();
    const { idempotency } = command;
    // The key and the token of this request's claim on it.
    let claimed: { scoped: ScopedKey; token: string } | undefined;
    if (idempotency) {
      const scoped = { principal: command.principal, key: idempotency.key };
      const claim = await this.keys.claim(scoped, idempotency.requestHash);
      if (claim.kind === 'replay') return { order: claim.body as OrderView, replayed: true };
      claimed = { scoped, token: claim.token };
    }
    const order = Order.place(
      {
        id: newId(),
        customerId: command.customerId,
        customerEmail: command.customerEmail,
        items: command.items.map(({ productId, quantity }) => ({ productId, quantity })),
        currency: CURRENCY,
      },
      new Date().toISOString(),
    );
    const view = toOrderView(order.snapshot);
    try {
      await this.orders.add(order, async (tx) => {
        if (claimed) await this.keys.complete(tx, claimed.scoped, claimed.token, ACCEPTED, view);
      });
    } catch (error) {
      if (claimed) await this.keys.release(claimed.scoped, claimed.token);
      throw error;
    }
    return { order: view, replayed: false };
  }
}
