import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.js';
import { AppLogger } from './common/logging/app-logger.js';
import { prettyWanted } from './common/logging/logging.module.js';
import { checkTokenKeySettings } from './auth/token-verifier.js';
import { ConfigError, loadConfig } from './config/app-config.js';

// Until the configuration is read (its errors included), lines go out in the default format.
Logger.overrideLogger(
  new AppLogger({
    level: 'log',
    pretty: prettyWanted({ logFormat: 'auto', nodeEnv: process.env.NODE_ENV ?? '' }),
  }),
);
const logger = new Logger('Main');

let config;
try {
  config = loadConfig();
  checkTokenKeySettings(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  logger.error(error.message);
  process.exit(2);
}

let app;
try {
  app = await createApp(config);
} catch (error) {
  // A setting that is valid alone but not together with others (the token keys).
  if (!(error instanceof ConfigError)) throw error;
  logger.error(error.message);
  process.exit(2);
}
await app.listen(config.port);
logger.log(`Order service listening on http://localhost:${config.port} (docs at /docs)`);

/**
 * Graceful shutdown on SIGTERM or SIGINT: stop accepting requests, let in-flight requests and
 * deliveries finish (what does not finish is redelivered after the next start), close the
 * database, and exit 0. Past SHUTDOWN_TIMEOUT_MS the process exits 1 regardless.
 */
let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.log(`${signal} received: shutting down`);
  setTimeout(() => {
    logger.error(`Shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  app.close().then(
    () => {
      logger.log('Shut down cleanly');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error(`Shutdown failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
