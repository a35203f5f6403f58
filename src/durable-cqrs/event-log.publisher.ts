import { Injectable } from '@nestjs/common';
import type { IEvent, IEventPublisher } from '@nestjs/cqrs';
import { DomainEvent } from './domain-event.js';
import { EventStore } from './event-store.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * Replaces the in-memory publisher of the CQRS EventBus: `eventBus.publish(event)` (and so
 * `AggregateRoot.commit()` after `mergeObjectContext`) appends the event to the log, and the
 * consumer delivers it like any other. Inside a unit of work (a handler, a saga's command) it
 * joins that unit, so the events commit with the state or not at all; elsewhere it is a unit of
 * its own.
 */
@Injectable()
export class EventLogPublisher implements IEventPublisher {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: EventStore,
  ) {}

  publish<T extends IEvent>(event: T): Promise<void> {
    return this.publishAll([event]);
  }

  async publishAll<T extends IEvent>(given: T[]): Promise<void> {
    // A copy, taken now: AggregateRoot.commit() empties its array as soon as this returns.
    const events = [...given];
    await this.uow.transaction(async (tx) => {
      // Every stream of the batch is locked up front, in a fixed order, before any append.
      await this.store.lockStreams(
        tx,
        events.filter((event) => event instanceof DomainEvent).map((event) => event.streamId),
      );
      for (const event of events) {
        if (!(event instanceof DomainEvent)) {
          throw new TypeError(`${event.constructor.name} is not a DomainEvent with an @EventType`);
        }
        await this.store.append(tx, [event], {
          streamId: event.streamId,
          aggregateType: 'None',
          aggregateId: event.streamId,
        });
      }
    });
  }
}
