import { jest } from '@jest/globals';
import { testOptions } from './runtime-options.fixture.js';
import type { DeliveryLog } from './delivery-log.js';
import type { DomainEvent } from './domain-event.js';
import type { ParkedDeliveries, ParkedDelivery } from './parked-deliveries.js';
import { ParkedLanes } from './parked-lanes.js';
import type { SubscriberRegistry } from './subscribers.js';
import type { UnitOfWork } from './unit-of-work.js';

describe('ParkedLanes: finished rows removed outside a batch', () => {
  const removed: ParkedDelivery[][] = [];
  const store = {
    all: () => Promise.resolve([]),
    removeMany: (_tx: unknown, rows: ParkedDelivery[]) => {
      removed.push(rows);
      return Promise.resolve();
    },
  } as unknown as ParkedDeliveries;
  const uow = { transaction: (work: (tx: unknown) => unknown) => work({}) } as UnitOfWork;
  const delivery = {
    subscriberId: 'Auditor',
    event: { meta: { streamId: 's-1', seq: 7 } } as DomainEvent,
    attempts: 0,
    notBefore: 0,
  } as ParkedDelivery;

  function lanes(): ParkedLanes {
    return new ParkedLanes(testOptions(), store, {} as SubscriberRegistry, {} as DeliveryLog, uow);
  }

  beforeEach(() => {
    removed.length = 0;
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('removes rows handed back while running, on a timer of its own', async () => {
    const running = lanes();
    await running.start();
    running.keepRemovals([delivery]);
    expect(jest.getTimerCount()).toBe(1);
    await jest.runAllTimersAsync();
    expect(removed).toEqual([[delivery]]);
    expect(running.takeRemovals()).toEqual([]);
  });

  it('arms no timer once stopped (one would retry against a closed database for ever), and keeps the rows for the next start', async () => {
    const stopped = lanes();
    await stopped.start();
    await stopped.stop(1000);
    stopped.keepRemovals([delivery]);
    expect(jest.getTimerCount()).toBe(0);
    expect(removed).toEqual([]);
    expect(stopped.takeRemovals()).toEqual([delivery]);
  });
});
