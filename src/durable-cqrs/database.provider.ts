import { Logger, type Provider } from '@nestjs/common';
import type { Migration } from 'kysely';
import { migrateToLatest, openDatabase, type Database } from '../database/database.js';
import { DATABASE } from '../database/database.tokens.js';
import { APP_MIGRATIONS } from './durable-cqrs.setup.js';
import { RuntimeOptions } from './runtime-options.js';

/**
 * The database of the runtime's settings, with pending migrations applied before anything runs:
 * the runtime's, then the application's own (see DurableCqrsSetup.migrations). The runtime's
 * module closes it when the application has shut down.
 */
export const databaseProvider: Provider = {
  provide: DATABASE,
  inject: [RuntimeOptions, APP_MIGRATIONS],
  useFactory: async (
    options: RuntimeOptions,
    appMigrations: Record<string, Migration>,
  ): Promise<Database> => {
    const database = openDatabase({
      url: options.databaseUrl,
      sqliteSynchronous: options.sqliteSynchronous,
      poolSize: options.databasePoolSize,
    });
    await migrateToLatest(database);
    // The application's own tables, recorded apart from the runtime's.
    if (Object.keys(appMigrations).length > 0) {
      await migrateToLatest(database, { list: appMigrations, table: 'app_migration' });
    }
    new Logger('Database').log(`Using ${database.dialect} (${redact(options.databaseUrl)})`);
    return database;
  },
};

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
