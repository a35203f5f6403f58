import type { RuntimeLogger } from './runtime-logger.js';
import { testOptions } from './runtime-options.fixture.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { DeliveryLog } from './delivery-log.js';
import type { Inbox } from './inbox.js';
import { RetryPolicy } from './retry-policy.js';
import type { DomainEvent } from './domain-event.js';
import { messageContext } from './message-context.js';
import type { Subscriber } from './subscribers.js';
import { callingOut, type Tx, type UnitOfWork } from './unit-of-work.js';

describe('DeliveryLog: subscribers that call the outside world', () => {
  /** Units that run their work in a context holding a unit, as UnitOfWork does. */
  const units = { opened: 0 };
  const uow = {
    transaction: <T>(work: (tx: Tx) => Promise<T>) => {
      units.opened++;
      const tx = {} as Tx;
      return messageContext.run({ ...messageContext.current(), tx }, () => work(tx));
    },
  } as unknown as UnitOfWork;
  const logger = { isEnabled: () => false } as unknown as RuntimeLogger;

  /** A mailer that calls out for the events in `calling`, and skips its call for the others. */
  function mailer(calling: Set<string>): Subscriber {
    return {
      id: 'Mailer',
      eventTypes: ['TicketClosed'],
      accepts: () => true,
      handle: (event) => {
        if (calling.has(event.meta.eventId)) callingOut('the mail server');
        return Promise.resolve();
      },
    };
  }
  const deliveryLog = () =>
    new DeliveryLog(uow, new RetryPolicy(testOptions()), {} as Inbox, new RuntimeMetrics(), logger);
  const event = (id: string) =>
    ({
      meta: { eventId: id, type: 'TicketClosed', correlationId: 'c', streamId: 's' },
    }) as DomainEvent;

  it('remembers a pair that called out through runs that skip their call, and tries it in a unit again after 20 of them', async () => {
    const log = deliveryLog();
    const calling = new Set(['e0']);
    const subscriber = mailer(calling);
    const recordDone = () => Promise.resolve();

    units.opened = 0;
    const first = await log.attempt(subscriber, event('e0'), 0, recordDone);
    // Tried in a unit, the call threw there; it ran again outside.
    expect(first).toEqual({ outcome: { status: 'DONE', attempts: 0 }, recorded: false });
    expect(units.opened).toBe(1);
    expect(log.callsOut(subscriber, event('e1'))).toBe(true);

    for (let run = 1; run < 20; run++) {
      await log.attempt(subscriber, event(`e${run}`), 0, recordDone);
      expect(log.callsOut(subscriber, event('next'))).toBe(true);
    }
    expect(units.opened).toBe(1); // 19 quiet runs, all outside any unit
    await log.attempt(subscriber, event('e20'), 0, recordDone);
    expect(log.callsOut(subscriber, event('next'))).toBe(false);

    const inUnit = await log.attempt(subscriber, event('e21'), 0, recordDone);
    expect(inUnit.recorded).toBe(true);
    expect(units.opened).toBe(2);
  });

  it('counts the quiet runs again from zero after a run that called out', async () => {
    const log = deliveryLog();
    const calling = new Set(['e0', 'e15']);
    const subscriber = mailer(calling);
    for (let run = 0; run < 30; run++) {
      await log.attempt(subscriber, event(`e${run}`), 0, () => Promise.resolve());
    }
    // 14 quiet runs after e15 so far (e16..e29): still remembered.
    expect(log.callsOut(subscriber, event('next'))).toBe(true);
  });
});
