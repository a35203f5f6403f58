import type { IEvent } from '@nestjs/cqrs';

/** What the event log knows about a stored event, beside its payload. */
export interface EventMeta {
  seq: number;
  eventId: string;
  type: string;
  streamId: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number | null;
  correlationId: string;
  causationId: string | null;
  /** W3C traceparent of the event's own span, in the trace of its cause (null: stored before). */
  traceparent: string | null;
  occurredAt: string;
  schemaVersion: number;
}

const metas = new WeakMap<object, EventMeta>();

/**
 * Base of every domain event. The payload is the event's own fields; the metadata (id, sequence,
 * correlation, causation, time) is attached when the event is stored and read back, and is never
 * part of the payload.
 */
export abstract class DomainEvent implements IEvent {
  /**
   * The stream whose history this event belongs to: its events are stored under this id and
   * delivered one at a time, in sequence. Each event class says which of its fields names it
   * (an accessor on the class, so never part of the payload).
   */
  abstract get streamId(): string;

  get meta(): EventMeta {
    const meta = metas.get(this);
    if (!meta) throw new Error(`${this.constructor.name} has not been stored yet`);
    return meta;
  }

  get isStored(): boolean {
    return metas.has(this);
  }
}

export function attachMeta(event: DomainEvent, meta: EventMeta): void {
  metas.set(event, meta);
}

type EventClass = abstract new (...args: never[]) => DomainEvent;
interface Registration {
  type: string;
  schemaVersion: number;
  cls: EventClass;
}

const byType = new Map<string, Registration>();
const byClass = new Map<EventClass, Registration>();

/**
 * Names an event class in the event log. The name is the contract: it is stored with every event
 * and used to turn a row back into an instance of the class.
 */
export function EventType(type: string, schemaVersion = 1): ClassDecorator {
  return (target) => {
    const cls = target as unknown as EventClass;
    const existing = byType.get(type);
    if (existing && existing.cls !== cls) throw new Error(`Event type ${type} registered twice`);
    const registration = { type, schemaVersion, cls };
    byType.set(type, registration);
    byClass.set(cls, registration);
  };
}

export function eventTypeOf(event: DomainEvent): Registration {
  const registration = byClass.get(event.constructor as EventClass);
  if (!registration) throw new Error(`${event.constructor.name} has no @EventType`);
  return registration;
}

/** Every registered event type: its name and class. */
export function registeredEventTypes(): Array<{ type: string; cls: EventClass }> {
  return [...byType.values()].map(({ type, cls }) => ({ type, cls }));
}

/** Rebuilds an event instance from its stored type name and payload. */
export function reviveEvent(type: string, payload: Record<string, unknown>): DomainEvent {
  const registration = byType.get(type);
  if (!registration) throw new Error(`Unknown event type ${type}`);
  return Object.assign(Object.create(registration.cls.prototype as object) as DomainEvent, payload);
}
