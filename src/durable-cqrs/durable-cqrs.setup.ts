import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { Migration } from 'kysely';
import type { RuntimeLogger } from './runtime-logger.js';
import type { RuntimeOptions } from './runtime-options.js';

/** What an application gives the runtime (DurableCqrsModule.forRoot). */
export interface DurableCqrsSetup {
  /** Its settings: the database, the broker, delivery's pace. */
  options: RuntimeOptions;
  /** Where its lines (one per delivery) go; Nest's Logger by default (NestRuntimeLogger). */
  logger?: RuntimeLogger;
  /**
   * The application's own tables: migrations applied after the runtime's, by name in order, and
   * recorded in a table of their own (`app_migration`), so the two lists never mix.
   */
  migrations?: Record<string, Migration>;
}

/** The same, built by a factory from the application's providers (forRootAsync). */
export interface DurableCqrsAsyncSetup {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => DurableCqrsSetup | Promise<DurableCqrsSetup>;
}

/** The application's migrations (see DurableCqrsSetup.migrations). */
export const APP_MIGRATIONS = Symbol('APP_MIGRATIONS');
