import type { ConsumeMessage } from 'amqplib';
import { attachMeta, reviveEvent, type DomainEvent, type EventMeta } from '../domain-event.js';

/** A message's body: the event's metadata and its payload, as JSON. */
export function encode(event: DomainEvent): Buffer {
  return Buffer.from(JSON.stringify({ meta: event.meta, payload: event }));
}

export function decode(msg: ConsumeMessage): DomainEvent {
  const { meta, payload } = JSON.parse(msg.content.toString('utf8')) as {
    meta: EventMeta;
    payload: Record<string, unknown>;
  };
  // A message published by an earlier release carries its version: read through the upcasters.
  const event = reviveEvent(meta.type, payload, meta.schemaVersion);
  // A message published before events carried a trace has it in none of its places.
  attachMeta(event, { ...meta, traceparent: meta.traceparent ?? null });
  return event;
}

/** The attempts a message's delivery has made so far (0 for a message never retried). */
export function attemptsOf(msg: ConsumeMessage): number {
  return Number(msg.properties.headers?.['x-attempts'] ?? 0);
}

export function properties(event: DomainEvent, attempts: number) {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: event.meta.eventId,
    type: event.meta.type,
    correlationId: event.meta.correlationId,
    timestamp: Math.floor(Date.parse(event.meta.occurredAt) / 1000),
    headers: headers(event, attempts),
  };
}

/** The attempt count, and the event's trace for whatever reads the broker (a tracing agent). */
export function headers(event: DomainEvent, attempts: number): Record<string, unknown> {
  return event.meta.traceparent
    ? { 'x-attempts': attempts, traceparent: event.meta.traceparent }
    : { 'x-attempts': attempts };
}
