import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Migrator, type Migration } from 'kysely';
import { migrateToLatest, openDatabase, type Database } from '../database/database.js';
import { DATABASE } from '../database/database.tokens.js';
import { APP_MIGRATIONS } from './durable-cqrs.setup.js';
import { RuntimeOptions } from './runtime-options.js';

/**
 * Opens the database of the runtime's settings and applies pending migrations before anything
 * runs: the runtime's, then the application's own (see DurableCqrsSetup.migrations).
 */
@Module({
  providers: [
    {
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
        await migrateApplication(database, appMigrations);
        new Logger('Database').log(`Using ${database.dialect} (${redact(options.databaseUrl)})`);
        return database;
      },
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** The application's migrations, recorded apart from the runtime's (`app_migration`). */
async function migrateApplication(
  database: Database,
  migrations: Record<string, Migration>,
): Promise<void> {
  if (Object.keys(migrations).length === 0) return;
  const migrator = new Migrator({
    db: database.writer,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'app_migration',
    migrationLockTableName: 'app_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
