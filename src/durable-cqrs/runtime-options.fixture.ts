import type { RuntimeOptions } from './runtime-options.js';

/** Settings for the runtime's own unit tests (an application gives its own, see RuntimeOptions). */
export function testOptions(overrides: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return {
    databaseUrl: 'sqlite::memory:',
    databasePoolSize: 10,
    sqliteSynchronous: 'NORMAL',
    amqpUrl: '',
    amqpPrefix: 'test',
    amqpPrefetch: 64,
    retryMaxAttempts: 5,
    retryBaseDelayMs: 100,
    dispatchConcurrency: 128,
    dispatchBatchSize: 200,
    dispatchPollMs: 1000,
    backlogLimit: 5000,
    shutdownTimeoutMs: 10_000,
    streamPollMs: 500,
    ...overrides,
  };
}
