import {
  Global,
  Module,
  type BeforeApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { EventBus } from '@nestjs/cqrs';
import { RuntimeOptions } from './runtime-options.js';
import { CommitSignal } from './commit-signal.js';
import { DeadLetterStore } from './dead-letters.js';
import { DeliveryLog } from './delivery-log.js';
import { DispatchLease } from './dispatch-lease.js';
import { MessagingRuntime } from './messaging-runtime.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { AmqpTransport } from './rabbitmq/amqp-transport.js';
import { BatchConsumer } from './batch-consumer.js';
import { Checkpoints } from './checkpoints.js';
import { ParkedDeliveries } from './parked-deliveries.js';
import { ParkedLanes } from './parked-lanes.js';
import { RetryPolicy } from './retry-policy.js';
import { EventLogPublisher } from './event-log.publisher.js';
import { EventLogLag } from './event-log-lag.js';
import { EventLogRetention } from './event-log-retention.js';
import { EventStore } from './event-store.js';
import { EventTransport } from './event-transport.js';
import { Inbox } from './inbox.js';
import { StreamWatch } from './stream-watch.js';
import { SubscriberRegistry } from './subscribers.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * The transport, chosen once: RabbitMQ when AMQP_URL is set, else the in-process batch consumer. Only
 * the chosen one is built, so the other never listens to commits.
 */
const eventTransport: Provider = {
  provide: EventTransport,
  inject: [RuntimeOptions, ModuleRef],
  useFactory: (config: RuntimeOptions, moduleRef: ModuleRef): Promise<EventTransport> =>
    moduleRef.create<EventTransport>(config.amqpUrl ? AmqpTransport : BatchConsumer),
};

const providers = [
  RuntimeMetrics,
  CommitSignal,
  UnitOfWork,
  EventStore,
  EventLogLag,
  EventLogRetention,
  SubscriberRegistry,
  DispatchLease,
  eventTransport,
  EventLogPublisher,
  DeadLetterStore,
  RetryPolicy,
  Inbox,
  DeliveryLog,
  Checkpoints,
  ParkedDeliveries,
  ParkedLanes,
  MessagingRuntime,
  StreamWatch,
];

/** The durable runtime under the CQRS API: event log, batch consumer, retries and dead letters. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: providers,
})
export class DurableCqrsModule implements OnModuleInit, BeforeApplicationShutdown {
  constructor(
    private readonly eventBus: EventBus,
    private readonly publisher: EventLogPublisher,
    private readonly runtime: MessagingRuntime,
    private readonly config: RuntimeOptions,
  ) {}

  onModuleInit(): void {
    this.eventBus.publisher = this.publisher;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Leave a margin of the shutdown budget for closing the database.
    await this.runtime.stop(Math.max(100, this.config.shutdownTimeoutMs - 1000));
  }
}
