import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { RuntimeOptions } from './runtime-options.js';
import { CommitSignal } from './commit-signal.js';
import type { DomainEvent } from './domain-event.js';
import { EventStore } from './event-store.js';

export interface FollowOptions {
  /** Only events after this sequence number (0: the whole stream). */
  afterSeq?: number;
  /** Ends the following: the generator returns at its next turn. */
  signal: AbortSignal;
}

/**
 * Follows one stream of the event log as it grows, for readers that wait on it (a client's event
 * stream, a request that waits for a workflow's outcome). The log is the truth, not this process's
 * memory: events are read from the database (the reader connection) after the last one seen, so
 * events committed by any instance are found. A commit on this instance wakes the readers of its
 * streams at once; the poll every STREAM_POLL_MS is what finds the commits of other instances.
 */
@Injectable()
export class StreamWatch implements BeforeApplicationShutdown {
  /** Wake-up calls of the readers waiting, by stream. */
  private readonly waiting = new Map<string, Set<() => void>>();
  /**
   * Aborted at shutdown: every follower ends, so open streams end (their clients resume
   * elsewhere with Last-Event-ID) and the HTTP server is not held open by them.
   */
  private readonly closing = new AbortController();

  constructor(
    private readonly events: EventStore,
    private readonly config: RuntimeOptions,
    signal: CommitSignal,
  ) {
    signal.onCommitted((committed) => {
      if (this.waiting.size === 0) return;
      for (const event of committed) {
        const wakers = this.waiting.get(event.streamId);
        if (wakers) for (const wake of wakers) wake();
      }
    });
  }

  /**
   * The stream's events in batches, each as soon as it is committed, until `signal` aborts (or
   * the caller stops iterating). No transaction is held between reads.
   */
  async *follow(
    streamId: string,
    { afterSeq = 0, signal: callerSignal }: FollowOptions,
  ): AsyncGenerator<DomainEvent[]> {
    const signal = AbortSignal.any([callerSignal, this.closing.signal]);
    let last = afterSeq;
    while (!signal.aborted) {
      // Armed before the read: a commit between the read and the wait still wakes it.
      const woken = this.arm(streamId, signal);
      try {
        const events = await this.events.readStream(streamId, last);
        if (events.length > 0) {
          last = events[events.length - 1].meta.seq;
          yield events;
          continue;
        }
        await woken.promise;
      } finally {
        woken.dispose();
      }
    }
  }

  beforeApplicationShutdown(): void {
    this.closing.abort();
  }

  /** A promise that settles at a commit to the stream, the next poll, or the abort. */
  private arm(streamId: string, signal: AbortSignal): { promise: Promise<void>; dispose(): void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(wake, this.config.streamPollMs);
    signal.addEventListener('abort', wake);
    let wakers = this.waiting.get(streamId);
    if (!wakers) this.waiting.set(streamId, (wakers = new Set()));
    wakers.add(wake);
    return {
      promise,
      dispose: () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        wakers.delete(wake);
        if (wakers.size === 0 && this.waiting.get(streamId) === wakers) {
          this.waiting.delete(streamId);
        }
      },
    };
  }
}
