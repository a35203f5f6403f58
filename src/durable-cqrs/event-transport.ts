import type { DomainEvent } from './domain-event.js';

/** Who delivers events, as GET /health reports it. */
export type TransportRole = 'through the broker' | 'delivering' | 'standing by';

/** The broker connection, as GET /health reports it. */
export type BrokerState = 'ok' | 'disconnected' | 'not used';

/**
 * How stored events reach their subscribers: in-process (BatchConsumer) or through RabbitMQ
 * (AmqpTransport). One of them is chosen once, at boot, by the provider of this token (see
 * DurableCqrsModule); the rest of the runtime knows only this contract. Both run deliveries
 * through DeliveryLog, so retries, the inbox and dead letters are the same either way.
 */
export abstract class EventTransport {
  /** Discovers the subscribers and starts delivering, beginning with what the log holds. */
  abstract start(): Promise<void>;

  /**
   * Stops taking new work and waits up to timeoutMs for deliveries under way; what does not
   * finish is delivered again after a restart.
   */
  abstract stop(timeoutMs: number): Promise<void>;

  /** Delivers a dead-lettered event to its subscriber again, with a fresh attempt count. */
  abstract replay(subscriberId: string, event: DomainEvent): Promise<void>;

  /**
   * Who delivers events: every instance through the broker; without one, the instance holding
   * the delivery lease ('delivering'), the others 'standing by' to take over.
   */
  abstract readonly role: TransportRole;

  abstract readonly brokerState: BrokerState;

  /** Events this instance holds in memory waiting for delivery (what back-pressure bounds). */
  abstract readonly backlog: number;
}
