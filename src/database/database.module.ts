import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { RuntimeOptions } from '../durable-cqrs/index.js';
import { migrateToLatest, openDatabase, type Database } from './database.js';
import { DATABASE } from './database.tokens.js';

/** Opens the database named by DATABASE_URL and applies pending migrations before anything runs. */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [RuntimeOptions],
      useFactory: async (config: RuntimeOptions): Promise<Database> => {
        const database = openDatabase({
          url: config.databaseUrl,
          sqliteSynchronous: config.sqliteSynchronous,
          poolSize: config.databasePoolSize,
        });
        await migrateToLatest(database);
        new Logger('Database').log(`Using ${database.dialect} (${redact(config.databaseUrl)})`);
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

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
