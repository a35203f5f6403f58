import { Global, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../../config/app-config.js';
import { AppLogger } from './app-logger.js';

/** Where log lines go when not to stdout: tests override it to read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The one logger of the application (see AppLogger), injectable for lines made of fields. */
@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useValue: null },
    {
      provide: AppLogger,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream | null) =>
        new AppLogger({
          level: config.logLevel,
          destination: destination ?? undefined,
          pretty: prettyWanted(config),
        }),
    },
  ],
  exports: [AppLogger],
})
export class LoggingModule {}

/** LOG_FORMAT: `auto` is pretty only for a person at a terminal outside production. */
export function prettyWanted(config: Pick<AppConfig, 'logFormat' | 'nodeEnv'>): boolean {
  if (config.logFormat !== 'auto') return config.logFormat === 'pretty';
  return config.nodeEnv !== 'production' && process.stdout.isTTY === true;
}
