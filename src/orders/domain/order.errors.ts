import { DomainError } from '../../durable-cqrs/index.js';

export type OrderErrorCode =
  | 'ORDER_NOT_FOUND'
  | 'ORDER_NOT_CANCELLABLE'
  | 'ORDER_CONCURRENT_UPDATE'
  | 'ORDER_INVALID_CURSOR'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_FLIGHT'
  | 'TOO_MANY_STREAMS'
  | 'SERVICE_OVERLOADED';

export class OrderError extends DomainError {
  constructor(code: OrderErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }

  static notFound(orderId: string): OrderError {
    return new OrderError('ORDER_NOT_FOUND', `Order ${orderId} does not exist`);
  }
}
