import { DomainEvent, EventType, eventTypeOf, reviveEvent } from './domain-event.js';

@EventType('StreamTestTicketOpened')
class TicketOpened extends DomainEvent {
  constructor(
    readonly ticketId: string,
    readonly title: string,
    readonly labels: string[],
  ) {
    super();
  }

  get streamId(): string {
    return this.ticketId;
  }
}

describe('DomainEvent.streamId', () => {
  const event = new TicketOpened('ticket-1', 'Printer on fire', ['urgent']);

  it('is named by the event class and is not part of the payload', () => {
    expect(event.streamId).toBe('ticket-1');
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      ticketId: 'ticket-1',
      title: 'Printer on fire',
      labels: ['urgent'],
    });
  });

  it('survives the round trip through the stored payload', () => {
    const revived = reviveEvent('StreamTestTicketOpened', JSON.parse(JSON.stringify(event)));
    expect(revived).toBeInstanceOf(TicketOpened);
    expect(revived.streamId).toBe('ticket-1');
  });
});

describe('EventType versions and upcasters', () => {
  @EventType('VersionTestParcelWeighed', {
    version: 3,
    upcasters: {
      // Version 1 stored grams; version 2 a weight with its unit; version 3 added the scale.
      1: ({ grams, ...rest }) => ({ ...rest, weight: { value: grams, unit: 'g' } }),
      2: (v2) => ({ ...v2, scale: 'unknown' }),
    },
  })
  class ParcelWeighed extends DomainEvent {
    constructor(
      readonly parcelId: string,
      readonly weight: { value: number; unit: string },
      readonly scale: string,
    ) {
      super();
    }

    get streamId(): string {
      return this.parcelId;
    }
  }

  it('reads a payload of each earlier version through every upcaster after it, in order', () => {
    const fromV1 = reviveEvent('VersionTestParcelWeighed', { parcelId: 'p-1', grams: 1200 }, 1);
    expect(fromV1).toBeInstanceOf(ParcelWeighed);
    expect(fromV1).toEqual({
      parcelId: 'p-1',
      weight: { value: 1200, unit: 'g' },
      scale: 'unknown',
    });
    const fromV2 = reviveEvent(
      'VersionTestParcelWeighed',
      { parcelId: 'p-2', weight: { value: 3, unit: 'kg' } },
      2,
    );
    expect(fromV2).toEqual({
      parcelId: 'p-2',
      weight: { value: 3, unit: 'kg' },
      scale: 'unknown',
    });
  });

  it('reads its own version as stored, and writes it', () => {
    const stored = { parcelId: 'p-3', weight: { value: 1, unit: 'kg' }, scale: 'dock-2' };
    expect(reviveEvent('VersionTestParcelWeighed', stored, 3)).toEqual(stored);
    expect(eventTypeOf(new ParcelWeighed('p', { value: 1, unit: 'g' }, 's')).schemaVersion).toBe(3);
  });

  it('refuses a payload stored by a newer release', () => {
    expect(() => reviveEvent('VersionTestParcelWeighed', { parcelId: 'p-4' }, 4)).toThrow(
      'VersionTestParcelWeighed version 4 was stored by a newer release (this one reads 3)',
    );
  });

  it('refuses a class whose upcasters leave a version unread', () => {
    expect(() => EventType('VersionTestGap', { version: 3, upcasters: { 1: (p) => p } })).toThrow(
      'Event type VersionTestGap (version 3) has no upcaster from version 2',
    );
  });
});
