import { Logger, type Provider } from '@nestjs/common';
import { openDatabase, type Database } from './database.js';
import { migrateDatabase, type MigrationList } from './runtime-migrations.js';
import { DATABASE } from './database.tokens.js';
import { APP_MIGRATIONS } from '../durable-cqrs.setup.js';
import { RuntimeOptions } from '../runtime-options.js';

/**
 * The database of the runtime's settings, with pending migrations applied before anything runs:
 * the application's own (see DurableCqrsSetup.migrations), then the runtime's. The runtime's
 * module closes it when the application has shut down.
 */
export const databaseProvider: Provider = {
  provide: DATABASE,
  inject: [RuntimeOptions, APP_MIGRATIONS],
  useFactory: async (options: RuntimeOptions, appMigrations: MigrationList): Promise<Database> => {
    const database = openDatabase({
      url: options.databaseUrl,
      sqliteSynchronous: options.sqliteSynchronous,
      poolSize: options.databasePoolSize,
    });
    await migrateDatabase(database, appMigrations);
    new Logger('Database').log(`Using ${database.dialect} (${redact(options.databaseUrl)})`);
    return database;
  },
};

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
