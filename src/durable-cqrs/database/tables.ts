import type { Generated } from 'kysely';

/**
 * The runtime's own tables, created by its migrations (runtime-migrations.ts). Times are
 * ISO-8601 strings. An application adds its tables to `Tables` by augmenting the runtime's entry:
 *
 *     declare module '<path>/durable-cqrs/index.js' {
 *       interface Tables { tickets: TicketsTable }
 *     }
 *
 * so that its queries and the runtime's share one typed Kysely instance (Database.writer,
 * Tx.db). Its tables must not take these four names.
 */
export interface EventLogTable {
  seq: Generated<number>;
  event_id: string;
  type: string;
  stream_id: string;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number | null;
  payload: string;
  correlation_id: string;
  causation_id: string | null;
  occurred_at: string;
  schema_version: number;
  /** W3C traceparent: the trace of the event's cause, with a span id of its own. */
  traceparent: string | null;
  /**
   * 1 once every subscriber had finished with the event, as the in-process dispatcher marked it
   * before migration 010; since then the in-process consumer's checkpoint says it instead.
   */
  delivered: Generated<number>;
  /** 1 once the event is in the broker's hands (set by the relay to RabbitMQ). */
  relayed: Generated<number>;
  /**
   * PostgreSQL: the id of the transaction that stored the event (set by the column's default);
   * consumers read in (tx_id, seq) order. SQLite: 0.
   */
  tx_id: Generated<number>;
}

/** Where a consumer is in the log: every event up to (tx_id, seq) is handed to its subscribers. */
export interface ConsumerCheckpointsTable {
  consumer: string;
  tx_id: number;
  seq: number;
  /** Events up to this seq may have finished deliveries recorded as DONE rows (before 010). */
  legacy_seq: number;
  updated_at: string;
}

export type DeliveryStatus = 'DONE' | 'RETRY' | 'DEAD';

export interface DeliveriesTable {
  subscriber: string;
  event_id: string;
  seq: number;
  stream_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  updated_at: string;
}

export interface DeadLettersTable {
  id: string;
  subscriber: string;
  event_id: string;
  event_type: string;
  seq: number;
  stream_id: string;
  attempts: number;
  last_error: string;
  failed_at: string;
  replayed_at: string | null;
}

/** Every table the runtime's Kysely instances know: its own, and those applications add. */
export interface Tables {
  event_log: EventLogTable;
  deliveries: DeliveriesTable;
  consumer_checkpoints: ConsumerCheckpointsTable;
  dead_letters: DeadLettersTable;
}
