import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { describeError } from '../describe-error.js';
import { RuntimeOptions } from '../runtime-options.js';
import type { SubscriberRegistry } from '../subscribers.js';

/** Delay queues: a retry waits in the smallest one that is at least its backoff. */
export const DELAY_BUCKETS_MS = [50, 250, 1000, 5000, 30000, 120000];
/** How long to wait before connecting again, or giving back a message that could not settle. */
export const RECONNECT_MS = 1000;
/** Longest wait for publisher confirms before a publish counts as failed (and is retried). */
const CONFIRM_TIMEOUT_MS = 10_000;

/** The names of the exchanges and queues, all under AMQP_PREFIX. */
export interface Topology {
  events: string;
  requeue: string;
  deadLetters: string;
  queueOf(subscriberId: string): string;
  delayOf(ms: number): string;
}

export function topology(prefix: string): Topology {
  return {
    events: `${prefix}.events`,
    requeue: `${prefix}.requeue`,
    deadLetters: `${prefix}.dead-letters`,
    queueOf: (subscriberId) => `${prefix}.sub.${subscriberId}`,
    delayOf: (ms) => `${prefix}.delay.${ms}`,
  };
}

/** What the transport does as the connection comes and goes. */
export interface ConnectionEvents {
  /** A new connection, its topology declared and its publisher ready: open the consumers. */
  opened(model: ChannelModel): Promise<void>;
  /** The connection is open and consuming. */
  connected(): void;
  /** The connection closed: its channels are gone. */
  lost(): void;
}

/**
 * The broker connection, its topology (declared on every connect) and its publisher channel (with
 * confirms). A lost connection is established again, a second apart, until the transport stops.
 */
export class AmqpConnection {
  private model?: ChannelModel;
  private channel?: ConfirmChannel;
  private connecting?: Promise<void>;

  constructor(
    private readonly config: RuntimeOptions,
    private readonly registry: SubscriberRegistry,
    private readonly names: Topology,
    private readonly logger: Logger,
    private readonly stopping: () => boolean,
    private readonly events: ConnectionEvents,
  ) {}

  /** The publisher channel while connected. */
  get publisher(): ConfirmChannel | undefined {
    return this.channel;
  }

  connect(): Promise<void> {
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Closes the connection for good (the transport is stopping). */
  async close(): Promise<void> {
    await this.model?.close().catch(() => undefined);
    this.model = undefined;
    this.channel = undefined;
  }

  /** Publishes on the publisher channel and waits for the broker's confirm. */
  async publishConfirmed(publish: (channel: ConfirmChannel) => void): Promise<void> {
    const publisher = this.channel;
    if (!publisher) throw new Error('Not connected to RabbitMQ');
    publish(publisher);
    await confirmed(publisher);
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopping()) {
      try {
        await this.open();
        this.logger.log(`Connected to RabbitMQ (${this.config.amqpPrefix}.*)`);
        this.events.connected();
        return;
      } catch (error: unknown) {
        this.logger.warn(`RabbitMQ not reachable: ${describeError(error)}; retrying`);
        await this.model?.close().catch(() => undefined);
        this.model = undefined;
        this.channel = undefined;
        await delay(RECONNECT_MS, undefined, { ref: false });
      }
    }
  }

  private async open(): Promise<void> {
    const model = await amqp.connect(this.config.amqpUrl);
    this.model = model;
    model.on('error', (error: unknown) => this.logger.warn(`RabbitMQ: ${describeError(error)}`));
    model.on('close', () => {
      if (this.model !== model) return;
      this.model = undefined;
      this.channel = undefined;
      this.events.lost();
      if (!this.stopping()) {
        this.logger.warn('RabbitMQ connection closed; reconnecting');
        void this.connect();
      }
    });
    const publisher = await model.createConfirmChannel();
    // Every publish waiting for its confirm listens for the channel's close (see `confirmed`), and
    // up to DISPATCH_CONCURRENCY deliveries publish their retries at once: not a leak.
    publisher.setMaxListeners(this.config.dispatchConcurrency + 16);
    await this.declare(publisher);
    // Consumers publish retries and waits through it: set before the first message can arrive.
    this.channel = publisher;
    await this.events.opened(model);
  }

  private async declare(channel: ConfirmChannel): Promise<void> {
    const n = this.names;
    await channel.assertExchange(n.events, 'topic', { durable: true });
    await channel.assertExchange(n.requeue, 'direct', { durable: true });
    await channel.assertQueue(n.deadLetters, { durable: true });
    for (const ms of DELAY_BUCKETS_MS) {
      await channel.assertExchange(n.delayOf(ms), 'fanout', { durable: true });
      await channel.assertQueue(n.delayOf(ms), {
        durable: true,
        arguments: { 'x-message-ttl': ms, 'x-dead-letter-exchange': n.requeue },
      });
      await channel.bindQueue(n.delayOf(ms), n.delayOf(ms), '');
    }
    for (const subscriber of this.registry.all()) {
      const queue = n.queueOf(subscriber.id);
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, n.requeue, queue);
      for (const type of subscriber.eventTypes) await channel.bindQueue(queue, n.events, type);
    }
  }
}

/**
 * Waits for the broker to confirm everything published on the channel, but never forever: a
 * closed channel or CONFIRM_TIMEOUT_MS fails the wait (amqplib may leave a confirm unanswered when
 * the channel closes). A failed wait means "maybe published": the caller retries, and the inbox
 * drops a second copy.
 */
export function confirmed(channel: ConfirmChannel): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onClose = () => finish(new Error('the channel closed before the broker confirmed'));
    const timer = setTimeout(
      () => finish(new Error(`no publisher confirm within ${CONFIRM_TIMEOUT_MS} ms`)),
      CONFIRM_TIMEOUT_MS,
    );
    channel.once('close', onClose);
    channel.waitForConfirms().then(
      () => finish(),
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
