import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, Min, validateSync } from 'class-validator';

import { ENV_NAMES } from './env-names.js';
import { SecuritySettings, toNumber } from './security-settings.js';

/**
 * Typed configuration, read once from the environment and validated at boot.
 * Every variable is listed, with its default, in `.env.example`.
 */
export class AppConfig extends SecuritySettings {
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 3000;

  /** `sqlite:<path>` (default) or `postgres://…`. */
  @IsString()
  @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'DATABASE_URL must be sqlite:<path> or postgres://…',
  })
  databaseUrl = 'sqlite:./data/orders.db';

  /** PostgreSQL connection pool size per instance. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(200)
  databasePoolSize = 10;

  /** Least severe log level written: debug, log, warn or error. */
  @IsIn(['debug', 'log', 'warn', 'error'])
  logLevel: 'debug' | 'log' | 'warn' | 'error' = 'log';

  /**
   * `json` (one JSON object per line), `pretty` (one human line) or `auto`: pretty when NODE_ENV
   * is not production and stdout is a terminal, JSON otherwise (a file, a pipe, a collector).
   */
  @IsIn(['auto', 'json', 'pretty'])
  logFormat: 'auto' | 'json' | 'pretty' = 'auto';

  /**
   * amqp://user:password@host:port/vhost turns on RabbitMQ: events are relayed from the outbox to
   * a topic exchange and every subscriber consumes its own durable queue. Empty: in-process.
   */
  @IsString()
  @Matches(/^(amqps?:\/\/.+)?$/, { message: 'AMQP_URL must be empty or amqp://…' })
  amqpUrl = '';

  /** Prefix of every exchange and queue name, so several deployments can share a broker. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,49}$/, { message: 'AMQP_PREFIX must be a short lowercase name' })
  amqpPrefix = 'orders';

  /**
   * Unacknowledged messages one instance takes from each subscriber queue at a time: enough that
   * a freed delivery slot (DISPATCH_CONCURRENCY) finds its next message already here instead of a
   * broker round trip away. What waits for a slot holds no database connection.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(1000)
  amqpPrefetch = 64;

  /** SQLite `synchronous` pragma. NORMAL survives a killed process; FULL also a power cut. */
  @IsIn(['NORMAL', 'FULL'])
  sqliteSynchronous: 'NORMAL' | 'FULL' = 'NORMAL';

  /** Simulated payment gateway: time one charge takes. */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  paymentLatencyMs = 200;

  /** Simulated payment gateway: share of charges that are declined (0 to 1). */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  paymentFailureRate = 0.1;

  /** Simulated payment gateway: share of calls that fail with a transient error (retried). */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  paymentTransientFailureRate = 0;

  /**
   * Simulated payment gateway: share of charges that hang. The gateway makes a hung charge but
   * answers only after twice PAYMENT_TIMEOUT_MS, so the caller times out and asks again.
   */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  paymentHangRate = 0;

  /** A gateway call that has not answered after this long is abandoned and retried. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  paymentTimeoutMs = 5000;

  /**
   * An order that stays in one non-terminal status longer than this is failed and compensated
   * (its stock released, a late charge refunded).
   */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  orderStepTimeoutMs = 60000;

  /** Simulated e-mail sender: time one message takes. */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  notificationLatencyMs = 100;

  /** Seed of the simulators' random source: the same seed gives the same outcomes. */
  @IsString()
  randomSeed = 'orders';

  /** Attempts for one delivery of an event to one subscriber before it is dead-lettered. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(100)
  retryMaxAttempts = 5;

  /** First retry delay; doubles with every attempt, with jitter. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  retryBaseDelayMs = 100;

  /** Orders whose events are delivered at the same time (one at a time within an order). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(1000)
  dispatchConcurrency = 128;

  /**
   * Events the in-process consumer reads and delivers per batch (one transaction, one commit).
   * Larger batches cost fewer commits per event; a batch holds the SQLite writer while it runs.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(10000)
  dispatchBatchSize = 200;

  /** Fallback poll of the event log for work left by a crash; commits wake the consumer at once. */
  @Transform(toNumber)
  @IsInt()
  @Min(10)
  dispatchPollMs = 1000;

  /**
   * Back-pressure: past this many events waiting in memory for delivery (plus units of work
   * waiting for a commit), POST /orders answers 503 with Retry-After instead of taking more.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  backlogLimit = 5000;

  /**
   * How often an open order stream (or a POST /orders that waits, Prefer: wait) reads the event
   * log for events committed by other instances; commits on this instance wake it at once.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(10)
  streamPollMs = 500;

  /** Longest life of one order stream; then it ends and the client reconnects (Last-Event-ID). */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  streamMaxMs = 300_000;

  /** Interval of the keep-alive comment on an order stream, so proxies keep it open. */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  streamKeepAliveMs = 15_000;

  /** Order streams open at once on one instance; past it a new one gets 503 with Retry-After. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  streamLimit = 1000;

  /** Of those, the most one principal may hold; past it a new one gets 429 (TOO_MANY_STREAMS). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  streamLimitPerPrincipal = 20;

  /** On SIGTERM: longest wait for in-flight requests and deliveries before exiting. */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  shutdownTimeoutMs = 10000;

  /** An Idempotency-Key replays its first response for this long; after it, it starts anew. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  idempotencyKeyTtlMs = 86_400_000;

  /** How often the retention job removes what is no longer needed (see README, Data lifecycle). */
  @Transform(toNumber)
  @IsInt()
  @Min(1000)
  retentionIntervalMs = 3_600_000;

  /** Finished deliveries (inbox rows) and replayed dead letters are kept this many days. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  retentionDeliveriesDays = 7;

  /** The gateway's call records of a finished order are kept this many days after it ended. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  retentionGatewayCallsDays = 30;

  /**
   * The event log (and inbox) of a finished order is removed this many days after it ended;
   * 0 keeps it forever (it is the orders' audit trail).
   */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  retentionEventLogDays = 0;

  /**
   * For crash testing only: comma-separated crash points at which the process kills itself
   * (SIGKILL) with probability CRASH_PROBABILITY. Empty (the default) switches them off.
   */
  @IsString()
  @Matches(/^[a-z-]*(,[a-z-]+)*$/, { message: 'CRASH_POINTS must be comma-separated names' })
  crashPoints = '';

  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(1)
  crashProbability = 0;
}

/** Settings whose values are never logged. */
const SECRETS = new Set<string>(['jwtSecret']);

export class ConfigError extends Error {}

/**
 * Builds the configuration from environment variables (and, for tests, explicit overrides).
 * Throws a ConfigError naming every invalid variable.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<AppConfig> = {},
): AppConfig {
  const plain: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') plain[key] = value;
  }
  const config = plainToInstance(AppConfig, plain);
  Object.assign(config, overrides);
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const name = ENV_NAMES[e.property as keyof AppConfig] ?? e.property;
      // A secret is never written out, not even a wrong one.
      const value = SECRETS.has(e.property) ? '(hidden)' : String(e.value);
      return `${name}=${value}: ${Object.values(e.constraints ?? {}).join(', ')}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return config;
}
