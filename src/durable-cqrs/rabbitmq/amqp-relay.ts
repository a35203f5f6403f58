import type { Logger } from '@nestjs/common';
import { describeError } from '../describe-error.js';
import { RuntimeOptions } from '../runtime-options.js';
import type { EventStore } from '../event-store.js';
import { confirmed, type AmqpConnection, type Topology } from './amqp-connection.js';
import { encode, properties } from './amqp-encoding.js';

const RELAY_BATCH = 200;

/**
 * The relay: claims committed, unrelayed events from the outbox (event_log) with FOR UPDATE SKIP
 * LOCKED, publishes them persistently to the topic exchange `<prefix>.events` (routing key: event
 * type), waits for publisher confirms, then marks them relayed. Woken by each commit and on each
 * connect; a poll finds what other instances stored.
 */
export class AmqpRelay {
  private relaying = false;
  private relayAgain = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: RuntimeOptions,
    private readonly store: EventStore,
    private readonly connection: AmqpConnection,
    private readonly names: Topology,
    private readonly logger: Logger,
    private readonly stopping: () => boolean,
  ) {}

  schedulePoll(): void {
    if (this.stopping()) return;
    this.timer = setTimeout(() => {
      this.kick();
      this.schedulePoll();
    }, this.config.dispatchPollMs);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Relays what the outbox holds, batch after batch; once more if kicked meanwhile. */
  kick(): void {
    if (this.stopping() || !this.connection.publisher) return;
    if (this.relaying) {
      this.relayAgain = true;
      return;
    }
    this.relaying = true;
    void (async () => {
      try {
        do {
          this.relayAgain = false;
          while ((await this.relayBatch()) === RELAY_BATCH && !this.stopping());
        } while (this.relayAgain && !this.stopping());
      } catch (error: unknown) {
        this.logger.warn(`Relay paused: ${describeError(error)}`);
      } finally {
        this.relaying = false;
      }
    })();
  }

  /** Publishes one batch of unrelayed events with one confirm wait; returns how many. */
  private relayBatch(): Promise<number> {
    const publisher = this.connection.publisher;
    if (!publisher) return Promise.resolve(0);
    return this.store.relay(RELAY_BATCH, async (events) => {
      for (const event of events) {
        publisher.publish(this.names.events, event.meta.type, encode(event), properties(event, 0));
      }
      await confirmed(publisher);
    });
  }
}
