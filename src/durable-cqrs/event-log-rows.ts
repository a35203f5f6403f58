import type { RawBuilder, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { RuntimeOptions } from './runtime-options.js';
import type { SqlDialectName } from './database/database.js';
import type { EventLogTable } from './database/tables.js';
import { pastCheckpoint, type Position } from './checkpoints.js';
import {
  attachMeta,
  eventTypeOf,
  reviveEvent,
  type DomainEvent,
  type EventMeta,
} from './domain-event.js';

/** A row of the event log, and how it becomes an event again. */
export type EventRow = Selectable<EventLogTable>;

export function metaOf(row: Omit<EventRow, 'delivered' | 'relayed' | 'tx_id'>): EventMeta {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    aggregateVersion: row.aggregate_version === null ? null : Number(row.aggregate_version),
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    traceparent: row.traceparent,
    occurredAt: row.occurred_at,
    schemaVersion: Number(row.schema_version),
  };
}

/**
 * An event as the log stored it, read through its class's upcasters when an earlier schema
 * version stored it. Its meta then names the class's version, the shape the instance has, so
 * whatever passes it on (the broker's messages) does not upcast it twice.
 */
export function revive(row: EventRow): DomainEvent {
  const event = reviveEvent(
    row.type,
    JSON.parse(row.payload) as Record<string, unknown>,
    Number(row.schema_version),
  );
  const meta = metaOf(row);
  meta.schemaVersion = eventTypeOf(event).schemaVersion;
  attachMeta(event, meta);
  return event;
}

/**
 * True for an event (aliased `alias`) that is not handed on yet: with RabbitMQ, not relayed (the
 * broker's consumers then record each delivery); in-process, past the consumer's checkpoint.
 * Retention removes only what is handed on, and the outbox lag counts the rest.
 */
export function notHandedOn(
  config: RuntimeOptions,
  dialect: SqlDialectName,
  alias = 'event_log',
): RawBuilder<boolean> {
  return config.amqpUrl
    ? // A literal, not a parameter: only then may the partial index on unrelayed events serve.
      sql<boolean>`${sql.ref(`${alias}.relayed`)} = 0`
    : pastCheckpoint(dialect, alias);
}

/** An event as a consumer reads it: revived, with its position and what was done with it. */
export interface StoredEvent {
  event: DomainEvent;
  position: Position;
  /** Delivered in-process the earlier way, with a DONE row per subscriber (before 010). */
  delivered: boolean;
  /** In the broker's hands: its subscribers' finished deliveries are DONE rows. */
  relayed: boolean;
}
