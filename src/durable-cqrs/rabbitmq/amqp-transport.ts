import { Injectable, Logger } from '@nestjs/common';
import { RuntimeOptions } from '../runtime-options.js';
import { CommitSignal } from '../commit-signal.js';
import { DeliveryLog } from '../delivery-log.js';
import type { DomainEvent } from '../domain-event.js';
import { EventStore } from '../event-store.js';
import { Inbox } from '../inbox.js';
import type { BrokerState, EventTransport, TransportRole } from '../event-transport.js';
import { SubscriberRegistry } from '../subscribers.js';
import { AmqpConnection, topology, type Topology } from './amqp-connection.js';
import { AmqpConsumer } from './amqp-consumer.js';
import { encode, properties } from './amqp-encoding.js';
import { AmqpRelay } from './amqp-relay.js';

/**
 * RabbitMQ transport for running several instances (AMQP_URL).
 *
 * - Relay (AmqpRelay): every instance claims committed, unrelayed events from the outbox
 *   (event_log) with FOR UPDATE SKIP LOCKED, publishes them persistently to the topic exchange
 *   `<prefix>.events` (routing key: event type), waits for publisher confirms, then marks them
 *   relayed.
 * - Each subscriber has its own durable queue `<prefix>.sub.<subscriber>`, bound to the event
 *   types it takes; all instances consume from it (competing consumers, AmqpConsumer). A message
 *   is acked only after the subscriber's work and its delivery record have committed.
 * - The inbox (deliveries) drops a redelivered message that was already handled.
 * - Per stream, a subscriber handles events in sequence: a delivery whose stream has an earlier
 *   event this subscriber takes and has not finished waits (briefly, through a delay queue).
 * - A failure is retried through delay queues (`<prefix>.delay.<ms>`, dead-lettered back to the
 *   subscriber's queue through `<prefix>.requeue`) with exponential backoff and jitter; after
 *   RETRY_MAX_ATTEMPTS the message goes to `<prefix>.dead-letters` and the dead-letter store.
 * - A lost connection is re-established with the topology (AmqpConnection); unacked messages are
 *   redelivered.
 */
@Injectable()
export class AmqpTransport implements EventTransport {
  private readonly logger = new Logger(AmqpTransport.name);
  private readonly names: Topology;
  private readonly connection: AmqpConnection;
  private readonly relay: AmqpRelay;
  private readonly consumer: AmqpConsumer;
  private stopping = false;

  constructor(
    config: RuntimeOptions,
    private readonly registry: SubscriberRegistry,
    log: DeliveryLog,
    private readonly inbox: Inbox,
    store: EventStore,
    signal: CommitSignal,
  ) {
    this.names = topology(config.amqpPrefix);
    const stopping = () => this.stopping;
    this.connection = new AmqpConnection(config, registry, this.names, this.logger, stopping, {
      opened: (model) => this.consumer.open(model),
      connected: () => this.relay.kick(),
      lost: () => this.consumer.lost(),
    });
    this.relay = new AmqpRelay(config, store, this.connection, this.names, this.logger, stopping);
    this.consumer = new AmqpConsumer(
      config,
      registry,
      log,
      inbox,
      this.connection,
      this.names,
      this.logger,
      stopping,
    );
    signal.onCommitted(() => this.relay.kick());
  }

  readonly role: TransportRole = 'through the broker';

  get brokerState(): BrokerState {
    return this.connection.publisher ? 'ok' : 'disconnected';
  }

  /**
   * Nothing for back-pressure to count: the backlog waits in the broker's queues, and this
   * instance takes at most AMQP_PREFETCH messages from each at a time.
   */
  readonly backlog = 0;

  async start(): Promise<void> {
    this.registry.discover();
    this.stopping = false;
    await this.connection.connect();
    this.relay.schedulePoll();
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    this.relay.stopPolling();
    await this.consumer.stop(timeoutMs);
    await this.connection.close();
  }

  /** Sends a dead-lettered event to the subscriber's queue again, with fresh attempts. */
  async replay(subscriberId: string, event: DomainEvent): Promise<void> {
    if (!this.connection.publisher) throw new Error('Not connected to RabbitMQ; try again');
    await this.inbox.reopen(subscriberId, event.meta.eventId);
    await this.connection.publishConfirmed((p) =>
      p.publish(
        this.names.requeue,
        this.names.queueOf(subscriberId),
        encode(event),
        properties(event, 0),
      ),
    );
  }
}
