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

/** Turns a stored payload of one schema version into the next version's shape. */
export type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

export interface EventTypeOptions {
  /** The version this class writes (1 by default). Raise it when the payload's shape changes. */
  version?: number;
  /**
   * How to read what earlier versions stored, keyed by the version each one reads: `1` turns a
   * version 1 payload into version 2, `2` a version 2 one into version 3, and so on up to the
   * class's version. Every version from 1 up needs one.
   */
  upcasters?: Readonly<Record<number, Upcaster>>;
}

interface Registration {
  type: string;
  schemaVersion: number;
  cls: EventClass;
  upcasters: Readonly<Record<number, Upcaster>>;
}

const byType = new Map<string, Registration>();
const byClass = new Map<EventClass, Registration>();

/**
 * Names an event class in the event log. The name is the contract: it is stored with every event
 * and used to turn a row back into an instance of the class. Each event is stored with the
 * class's schema version; events stored by an earlier version are read through the class's
 * upcasters (`@EventType('TicketOpened', { version: 2, upcasters: { 1: (v1) => ({ ...v1, channel:
 * 'web' }) } })`), wherever they are read: delivery, replay, history, the broker's messages.
 */
export function EventType(type: string, options: number | EventTypeOptions = {}): ClassDecorator {
  const { version = 1, upcasters = {} } =
    typeof options === 'number' ? { version: options } : options;
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`Event type ${type}: version must be a positive integer`);
  }
  for (let from = 1; from < version; from++) {
    if (typeof upcasters[from] !== 'function') {
      throw new Error(
        `Event type ${type} (version ${version}) has no upcaster from version ${from}`,
      );
    }
  }
  return (target) => {
    const cls = target as unknown as EventClass;
    const existing = byType.get(type);
    if (existing && existing.cls !== cls) throw new Error(`Event type ${type} registered twice`);
    const registration = { type, schemaVersion: version, cls, upcasters };
    byType.set(type, registration);
    byClass.set(cls, registration);
  };
}

export function eventTypeOf(event: DomainEvent): Registration {
  const registration = byClass.get(event.constructor as EventClass);
  if (!registration) throw new Error(`${event.constructor.name} has no @EventType`);
  return registration;
}

/** Every registered event type: its name, class and the schema version it writes. */
export function registeredEventTypes(): Array<{
  type: string;
  cls: EventClass;
  schemaVersion: number;
}> {
  return [...byType.values()].map(({ type, cls, schemaVersion }) => ({ type, cls, schemaVersion }));
}

/**
 * Rebuilds an event instance from its stored type name and payload, stored at `storedVersion`
 * (the class's own version when not given): a payload of an earlier version goes through the
 * class's upcasters first. A payload of a later version (stored by a newer release) cannot be
 * read and throws.
 */
export function reviveEvent(
  type: string,
  payload: Record<string, unknown>,
  storedVersion?: number,
): DomainEvent {
  const registration = byType.get(type);
  if (!registration) throw new Error(`Unknown event type ${type}`);
  const current = registration.schemaVersion;
  const from = storedVersion ?? current;
  if (from > current) {
    throw new Error(
      `${type} version ${from} was stored by a newer release (this one reads ${current})`,
    );
  }
  let shaped = payload;
  for (let version = from; version < current; version++) {
    shaped = registration.upcasters[version](shaped);
  }
  return Object.assign(Object.create(registration.cls.prototype as object) as DomainEvent, shaped);
}
