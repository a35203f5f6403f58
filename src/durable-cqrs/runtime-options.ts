/**
 * What the durable runtime reads of the application's settings, and nothing else: the database,
 * the broker, delivery's pace and patience, and the limit of its backlog. The application
 * provides them under this token (this service: its RuntimeOptions, which has these fields and reads
 * them from the environment, see `.env.example`).
 */
export abstract class RuntimeOptions {
  /** `sqlite:<path>` or `postgres://…`. */
  abstract readonly databaseUrl: string;
  /** PostgreSQL: connections of the pool, per instance. */
  abstract readonly databasePoolSize: number;
  /** SQLite: `NORMAL` (the WAL's default) or `FULL` (an fsync at every commit). */
  abstract readonly sqliteSynchronous: 'NORMAL' | 'FULL';
  /** RabbitMQ (`amqp://…`), or empty for in-process delivery. */
  abstract readonly amqpUrl: string;
  /** Names the broker's exchange and queues. */
  abstract readonly amqpPrefix: string;
  /** Messages a subscriber's channel takes before acknowledging. */
  abstract readonly amqpPrefetch: number;
  /** Attempts of a delivery before it becomes a dead letter. */
  abstract readonly retryMaxAttempts: number;
  /** First retry's backoff, doubled at each attempt (with jitter). */
  abstract readonly retryBaseDelayMs: number;
  /** Deliveries (and parked lanes) running at once. */
  abstract readonly dispatchConcurrency: number;
  /** Events a batch of the in-process consumer reads at most. */
  abstract readonly dispatchBatchSize: number;
  /** How often the consumer looks for events stored elsewhere (another instance). */
  abstract readonly dispatchPollMs: number;
  /** Events waiting for delivery above which requests are refused (503). */
  abstract readonly backlogLimit: number;
  /** How long closing waits for deliveries under way. */
  abstract readonly shutdownTimeoutMs: number;
  /** How often an event stream (server-sent events) looks for new events. */
  abstract readonly streamPollMs: number;
}
