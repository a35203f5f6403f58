import {
  Inject,
  Module,
  type OnApplicationShutdown,
  type DynamicModule,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { EventBus } from '@nestjs/cqrs';
import { RuntimeOptions } from './runtime-options.js';
import { NestRuntimeLogger, RuntimeLogger } from './runtime-logger.js';
import {
  APP_MIGRATIONS,
  type DurableCqrsAsyncSetup,
  type DurableCqrsSetup,
} from './durable-cqrs.setup.js';
import { databaseProvider } from './database/database.provider.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
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
import { RetentionStore } from './retention-store.js';
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
  RetentionStore,
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

/** The setup an application gave (forRoot, forRootAsync). */
const SETUP = Symbol('DURABLE_CQRS_SETUP');

/** What the runtime takes from the setup, each under its own token. */
const given: Provider[] = [
  { provide: RuntimeOptions, inject: [SETUP], useFactory: (s: DurableCqrsSetup) => s.options },
  {
    provide: RuntimeLogger,
    inject: [SETUP],
    useFactory: (s: DurableCqrsSetup) => s.logger ?? new NestRuntimeLogger(),
  },
  {
    provide: APP_MIGRATIONS,
    inject: [SETUP],
    useFactory: (s: DurableCqrsSetup) => s.migrations ?? {},
  },
];

/** What applications inject; everything else stays the runtime's own. */
const exported = [
  RuntimeOptions,
  RuntimeLogger,
  DATABASE,
  RuntimeMetrics,
  UnitOfWork,
  EventStore,
  EventLogLag,
  RetentionStore,
  SubscriberRegistry,
  EventTransport,
  DeadLetterStore,
  MessagingRuntime,
  StreamWatch,
];

/**
 * The runtime's services, global so that every module's handlers, sagas and repositories reach
 * what it exports. Global modules boot first: @nestjs/cqrs registers its handlers there.
 */
@Module({})
class DurableCqrsCoreModule
  implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly eventBus: EventBus,
    private readonly publisher: EventLogPublisher,
    private readonly runtime: MessagingRuntime,
    private readonly config: RuntimeOptions,
  ) {}

  static with(setup: Provider, imports: DynamicModule['imports'] = []): DynamicModule {
    return {
      module: DurableCqrsCoreModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [setup, ...given, databaseProvider, ...providers],
      exports: exported,
    };
  }

  onModuleInit(): void {
    this.eventBus.publisher = this.publisher;
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Leave a margin of the shutdown budget for closing the database.
    await this.runtime.stop(Math.max(100, this.config.shutdownTimeoutMs - 1000));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * The durable runtime under the CQRS API: event log, delivery (in-process batches or RabbitMQ),
 * retries, dead letters, replay. Imported once, by the root module, with `forRoot(setup)` or
 * `forRootAsync({ inject, useFactory })`; its services are global. It starts delivery itself when
 * the application bootstraps (after the global modules, @nestjs/cqrs's among them, have
 * registered every handler and saga) and stops it when the application closes, before the
 * database closes.
 */
@Module({})
export class DurableCqrsModule implements OnApplicationBootstrap {
  constructor(private readonly runtime: MessagingRuntime) {}

  static forRoot(setup: DurableCqrsSetup): DynamicModule {
    return {
      module: DurableCqrsModule,
      imports: [DurableCqrsCoreModule.with({ provide: SETUP, useValue: setup })],
    };
  }

  static forRootAsync(setup: DurableCqrsAsyncSetup): DynamicModule {
    return {
      module: DurableCqrsModule,
      imports: [
        DurableCqrsCoreModule.with(
          { provide: SETUP, inject: setup.inject ?? [], useFactory: setup.useFactory },
          setup.imports ?? [],
        ),
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }
}
