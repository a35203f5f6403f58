/**
 * The durable runtime for @nestjs/cqrs: the one entry an application imports it through (a lint
 * rule forbids reaching past it). What it offers:
 * - the module (DurableCqrsModule: the event log, its delivery in-process or through RabbitMQ,
 *   retries, dead letters, replay) and what the application gives it: RuntimeOptions (its
 *   settings), RuntimeLogger (where its lines go);
 * - its database: Database (SQLite or PostgreSQL, opened and migrated by the module, injected
 *   with DATABASE), Tables (its tables, which an application augments with its own), Statement,
 *   Lookup and the shared writes (prepared statements of the hot path), isConnectionError,
 *   migrateDatabase (an application's migrations, then the runtime's own), inChunks (key lists
 *   no larger than a statement takes);
 * - writing: UnitOfWork (transactions, group commit, `callingOut`, `onCommitted`), EventStore
 *   (append and read the log), domain events (DomainEvent, EventType with versions and
 *   upcasters, DescribeEvent for the catalog), ids and trace context, DomainError;
 * - operating: MessagingRuntime (start, stop, back-pressure), DeadLetterStore, StreamWatch, the
 *   event catalog, EventLogLag, RetentionStore (what retention removes), RuntimeMetrics, crash
 *   points for crash tests.
 */
export * from './crash-points.js';
export * from './database/connection-errors.js';
export * from './database/database.js';
export * from './database/database.tokens.js';
export * from './database/in-chunks.js';
export * from './database/runtime-migrations.js';
export * from './database/shared-statements.js';
export * from './database/statement.js';
export * from './database/tables.js';
export * from './dead-letters.js';
export * from './describe-error.js';
export * from './domain-error.js';
export * from './domain-event.js';
export * from './event-catalog.js';
export * from './event-log-lag.js';
export * from './retention-store.js';
export * from './event-schema.js';
export * from './event-store.js';
export * from './event-transport.js';
export * from './http/back-pressure.js';
export * from './ids.js';
export * from './inbox.js';
export * from './message-context.js';
export * from './messaging-runtime.js';
export * from './durable-cqrs.module.js';
export * from './runtime-logger.js';
export * from './runtime-metrics.js';
export * from './runtime-options.js';
export * from './stream-watch.js';
export * from './subscribers.js';
export * from './trace-context.js';
export * from './unit-of-work.js';
export * from './durable-cqrs.setup.js';
