import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { configureCrashPoints, DurableCqrsModule } from './durable-cqrs/index.js';
import { serviceMigrations } from './database/migrations.js';
import { AuthModule } from './auth/auth.module.js';
import { AppConfig } from './config/app-config.js';
import { ConsoleModule } from './console/console.module.js';
import { ConfigModule } from './config/config.module.js';
import { KnownInputGuard } from './common/known-input.guard.js';
import { AppLogger } from './common/logging/app-logger.js';
import { LoggingModule } from './common/logging/logging.module.js';
import { EventEndpointsModule } from './event-endpoints/event-endpoints.module.js';
import { HealthController } from './health/health.controller.js';
import { InventoryModule } from './inventory/inventory.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { PaymentsModule } from './payments/payments.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    configureCrashPoints(config.crashPoints, config.crashProbability);
    return {
      module: AppModule,
      controllers: [HealthController],
      // Query parameters and bodies an operation does not document are refused, on every one.
      providers: [{ provide: APP_GUARD, useClass: KnownInputGuard }],
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        CqrsModule.forRoot(),
        // A failed readiness is answered (503 with the details), not logged at every probe.
        TerminusModule.forRoot({ logger: false }),
        MetricsModule,
        AuthModule,
        // The durable runtime, with the service's settings, logger and tables.
        DurableCqrsModule.forRootAsync({
          inject: [AppConfig, AppLogger],
          useFactory: (settings: AppConfig, logger: AppLogger) => ({
            options: settings,
            logger,
            migrations: serviceMigrations,
          }),
        }),
        EventEndpointsModule,
        OrdersModule,
        InventoryModule,
        PaymentsModule,
        NotificationsModule,
        LifecycleModule,
        ConsoleModule,
      ],
    };
  }
}
