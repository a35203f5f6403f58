import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Tx } from './unit-of-work.js';

/** The correlation and causation in force for the code running now. */
export interface MessageContext {
  correlationId: string;
  causationId: string | null;
  /**
   * The W3C traceparent of the span this code runs in (the request's, or the event's being
   * handled): each event stored here gets its trace id and a span of its own.
   */
  traceparent?: string;
  /** Set for the deliveries of events: their units of work give way to requests. */
  background?: boolean;
  /** The unit of work this code runs in, if any: a nested transaction joins it. */
  tx?: Tx;
  /** Set when the code called the outside world (see `callingOut`). */
  calledOut?: boolean;
}

/** One store for everything that follows the code through awaits (one AsyncLocalStorage costs). */
const storage = new AsyncLocalStorage<MessageContext>();

export const messageContext = {
  run<T>(context: MessageContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  /** The context in force, if any. */
  store(): MessageContext | undefined {
    return storage.getStore();
  },
  /** The current context, or a new correlation when nothing started one. */
  current(): MessageContext {
    return storage.getStore() ?? { correlationId: randomUUID(), causationId: null };
  },
};
