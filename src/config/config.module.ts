import { Global, Module, type DynamicModule } from '@nestjs/common';
import { RuntimeOptions } from '../durable-cqrs/index.js';
import { AppConfig } from './app-config.js';

/**
 * Makes the validated AppConfig injectable everywhere, and gives the durable runtime its settings
 * (RuntimeOptions) from it.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: RuntimeOptions, useValue: config },
      ],
      exports: [AppConfig, RuntimeOptions],
    };
  }
}
