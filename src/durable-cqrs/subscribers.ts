import { Injectable, Logger, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CommandBus, type ICommand, type IEventHandler } from '@nestjs/cqrs';
import { lastValueFrom, Observable, of, toArray } from 'rxjs';
import { registeredEventTypes, type DomainEvent } from './domain-event.js';

// Metadata keys written by @EventsHandler and @Saga in @nestjs/cqrs (not exported by the package).
const EVENTS_HANDLER_METADATA = '__eventsHandler__';
const SAGA_METADATA = '__saga__';

/** Something the runtime delivers events to: an @EventsHandler class or one @Saga() stream. */
export interface Subscriber {
  /** Stable name, stored with every delivery: `ClassName` or `ClassName.sagaProperty`. */
  readonly id: string;
  /** Names of the event types it takes. */
  readonly eventTypes: readonly string[];
  accepts(event: DomainEvent): boolean;
  /** Runs the subscriber to completion. */
  handle(event: DomainEvent): Promise<void>;
}

type SagaFn = (events$: Observable<DomainEvent>) => Observable<ICommand>;

class HandlerSubscriber implements Subscriber {
  readonly eventTypes: readonly string[];

  constructor(
    readonly id: string,
    private readonly instance: IEventHandler<DomainEvent>,
    private readonly events: Type[],
  ) {
    this.eventTypes = registeredEventTypes()
      .filter(({ cls }) => events.includes(cls as unknown as Type))
      .map(({ type }) => type);
  }

  accepts(event: DomainEvent): boolean {
    return this.events.some((cls) => event instanceof cls);
  }

  async handle(event: DomainEvent): Promise<void> {
    await this.instance.handle(event);
  }
}

/**
 * A saga runs over a stream of exactly one event; the commands it emits are executed one after
 * the other and awaited, so the delivery counts as done only when all of them have succeeded.
 * An error inside the saga's stream fails this delivery only; the saga keeps receiving events.
 */
class SagaSubscriber implements Subscriber {
  constructor(
    readonly id: string,
    private readonly saga: SagaFn,
    private readonly commandBus: CommandBus,
    readonly eventTypes: readonly string[],
  ) {}

  accepts(event: DomainEvent): boolean {
    return this.eventTypes.includes(event.meta.type);
  }

  async handle(event: DomainEvent): Promise<void> {
    const commands = await lastValueFrom(this.saga(of(event)).pipe(toArray()));
    // Each command runs in the delivery's message context: the events it raises carry the
    // event's correlation and are caused by it.
    for (const command of commands) await this.commandBus.execute(command);
  }
}

/**
 * Which event types a saga reacts to. `ofType` filters with instanceof and reads nothing, so the
 * saga is run (commands are not executed) over an empty instance of every registered type: a
 * type it reads a field of, emits a command for, or throws on is one it takes. Sagas do no I/O,
 * so this is safe; it lets deliveries and queue bindings skip the types a saga ignores.
 */
function probeSagaTypes(saga: SagaFn): string[] {
  const types: string[] = [];
  for (const { type, cls } of registeredEventTypes()) {
    let touched = false;
    const target = Object.create(cls.prototype as object) as DomainEvent;
    const probe = new Proxy(target, {
      get(obj, prop, receiver) {
        if (typeof prop === 'string' && !(prop in Object.prototype)) touched = true;
        return Reflect.get(obj, prop, receiver) as unknown;
      },
    });
    let emitted = false;
    const once = new Observable<DomainEvent>((subscriber) => {
      subscriber.next(probe);
      subscriber.complete();
    });
    try {
      saga(once).subscribe({
        next: () => (emitted = true),
        error: () => (touched = true),
      });
    } catch {
      touched = true;
    }
    if (touched || emitted) types.push(type);
  }
  return types;
}

/** Finds every @EventsHandler and @Saga() in the application through their metadata. */
@Injectable()
export class SubscriberRegistry {
  private readonly logger = new Logger(SubscriberRegistry.name);
  private subscribers: Subscriber[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly commandBus: CommandBus,
  ) {}

  discover(): Subscriber[] {
    const found: Subscriber[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const cls = instance.constructor as Type;
      const events = Reflect.getMetadata(EVENTS_HANDLER_METADATA, cls) as Type[] | undefined;
      if (events) {
        found.push(
          new HandlerSubscriber(
            cls.name,
            instance as unknown as IEventHandler<DomainEvent>,
            events,
          ),
        );
      }
      const sagaKeys = Reflect.getMetadata(SAGA_METADATA, cls) as string[] | undefined;
      for (const key of sagaKeys ?? []) {
        const saga = (instance[key] as SagaFn).bind(instance);
        found.push(
          new SagaSubscriber(`${cls.name}.${key}`, saga, this.commandBus, probeSagaTypes(saga)),
        );
      }
    }
    const ids = new Set<string>();
    for (const s of found) {
      if (ids.has(s.id)) throw new Error(`Two subscribers are named ${s.id}`);
      ids.add(s.id);
      this.logger.debug(`${s.id} <- ${s.eventTypes.join(', ')}`);
    }
    this.subscribers = found;
    return found;
  }

  all(): Subscriber[] {
    return this.subscribers;
  }

  byId(id: string): Subscriber | undefined {
    return this.subscribers.find((s) => s.id === id);
  }
}
