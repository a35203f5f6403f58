import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The correlation and causation in force for the code running now. */
export interface MessageContext {
  correlationId: string;
  causationId: string | null;
}

const storage = new AsyncLocalStorage<MessageContext>();

export const messageContext = {
  run<T>(context: MessageContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  /** The current context, or a new correlation when nothing started one. */
  current(): MessageContext {
    return storage.getStore() ?? { correlationId: randomUUID(), causationId: null };
  },
};
