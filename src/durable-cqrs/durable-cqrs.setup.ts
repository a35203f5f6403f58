import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { MigrationList } from './database/runtime-migrations.js';
import type { RuntimeLogger } from './runtime-logger.js';
import type { RuntimeOptions } from './runtime-options.js';

/** What an application gives the runtime (DurableCqrsModule.forRoot). */
export interface DurableCqrsSetup {
  /** Its settings: the database, the broker, delivery's pace. */
  options: RuntimeOptions;
  /** Where its lines (one per delivery) go; Nest's Logger by default (NestRuntimeLogger). */
  logger?: RuntimeLogger;
  /**
   * The application's own tables: migrations by name in order (or a function of the dialect
   * giving them), applied before the runtime's and recorded in Kysely's usual table
   * (`kysely_migration`); the runtime records its own in `durable_cqrs_migration`.
   */
  migrations?: MigrationList;
}

/** The same, built by a factory from the application's providers (forRootAsync). */
export interface DurableCqrsAsyncSetup {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => DurableCqrsSetup | Promise<DurableCqrsSetup>;
}

/** The application's migrations (see DurableCqrsSetup.migrations). */
export const APP_MIGRATIONS = Symbol('APP_MIGRATIONS');
