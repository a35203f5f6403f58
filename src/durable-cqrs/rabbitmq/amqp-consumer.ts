import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { describeError } from '../describe-error.js';
import { RuntimeOptions } from '../runtime-options.js';
import type { DeliveryLog } from '../delivery-log.js';
import type { DomainEvent } from '../domain-event.js';
import type { Inbox } from '../inbox.js';
import type { DeliveryOutcome } from '../retry-policy.js';
import type { Subscriber, SubscriberRegistry } from '../subscribers.js';
import {
  DELAY_BUCKETS_MS,
  RECONNECT_MS,
  type AmqpConnection,
  type Topology,
} from './amqp-connection.js';
import { attemptsOf, decode, encode, headers, properties } from './amqp-encoding.js';
import { ChannelAcks } from './channel-acks.js';

/** How long a delivery waits when an earlier event of its stream is not done yet. */
const STREAM_WAIT_MS = 50;

/**
 * The consumers: a channel per subscriber on its durable queue `<prefix>.sub.<subscriber>`, with
 * AMQP_PREFETCH. A message is acked only after the subscriber's work and its delivery record have
 * committed; the inbox drops a redelivered message that was already handled. Per stream, a
 * delivery whose stream has an earlier unfinished event waits (briefly, through a delay queue). A
 * failure goes back to the queue through the delay queue of its backoff; the last one goes to
 * `<prefix>.dead-letters`.
 */
export class AmqpConsumer {
  private consumers: Array<{ channel: Channel; tag: string; acks: ChannelAcks }> = [];
  /** Consumer channels still open: a message of a closed one can no longer be acked. */
  private readonly openChannels = new WeakSet<Channel>();
  private inFlight = 0;
  private running = 0;
  private waiting: Array<() => void> = [];
  private idle: Array<() => void> = [];

  constructor(
    private readonly config: RuntimeOptions,
    private readonly registry: SubscriberRegistry,
    private readonly log: DeliveryLog,
    private readonly inbox: Inbox,
    private readonly connection: AmqpConnection,
    private readonly names: Topology,
    private readonly logger: Logger,
    private readonly stopping: () => boolean,
  ) {}

  /** Opens a consumer channel per subscriber on a new connection. */
  async open(model: ChannelModel): Promise<void> {
    this.consumers = [];
    for (const subscriber of this.registry.all()) {
      const channel = await model.createChannel();
      this.openChannels.add(channel);
      channel.on('close', () => this.openChannels.delete(channel));
      await channel.prefetch(this.config.amqpPrefetch);
      const acks = new ChannelAcks(channel);
      const { consumerTag } = await channel.consume(this.names.queueOf(subscriber.id), (msg) => {
        if (!msg) return;
        acks.received(msg);
        void this.onMessage(subscriber, channel, acks, msg);
      });
      this.consumers.push({ channel, tag: consumerTag, acks });
    }
  }

  /** The connection closed, and its channels with it. */
  lost(): void {
    this.consumers = [];
  }

  /** Stops consuming and waits up to timeoutMs for the deliveries under way; sends their acks. */
  async stop(timeoutMs: number): Promise<void> {
    for (const { channel, tag } of this.consumers) {
      await channel.cancel(tag).catch(() => undefined);
    }
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        delay(timeoutMs, undefined, { ref: false }),
      ]);
    }
    // The acks of the last moment go before the channels close.
    for (const { acks } of this.consumers) acks.flush();
  }

  private async onMessage(
    subscriber: Subscriber,
    channel: Channel,
    acks: ChannelAcks,
    msg: ConsumeMessage,
  ) {
    this.inFlight++;
    await this.slot();
    try {
      // Up to AMQP_PREFETCH messages per queue wait here for a slot. One whose channel closed
      // meanwhile (a lost connection) is given again by RabbitMQ, and one left when the transport
      // stops is given again once its connection closes: handling either now would be work whose
      // ack cannot be sent, in a slot that a live message needs (or a shutdown waiting on it).
      if (this.stopping() || !this.openChannels.has(channel)) return;
      const settled = await this.handle(subscriber, decode(msg), attemptsOf(msg));
      if (!settled) return;
      acks.ack(msg);
    } catch (error: unknown) {
      // The channel closed under the delivery: RabbitMQ redelivers the message, and the inbox
      // makes that delivery a no-op if this one committed. Nothing to give back.
      if (!this.openChannels.has(channel)) return;
      // Broker or database trouble: give the message back (after a pause, so a database that is
      // down is not hammered).
      this.logger.warn(`${subscriber.id}: could not settle a message: ${describeError(error)}`);
      await delay(RECONNECT_MS, undefined, { ref: false });
      try {
        acks.forget(msg);
        channel.nack(msg, false, true);
      } catch {
        // The channel is gone; RabbitMQ redelivers the message.
      }
    } finally {
      this.release();
      this.inFlight--;
      if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
    }
  }

  /**
   * At most DISPATCH_CONCURRENCY deliveries run at once in this instance, whatever the number of
   * queues and their prefetch: the rest wait here without holding database connections.
   */
  private slot(): Promise<void> {
    if (this.running < this.config.dispatchConcurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Handles one delivery; true when the message may be acked. */
  private async handle(subscriber: Subscriber, event: DomainEvent, attempts: number) {
    if (await this.inbox.isDone(subscriber.id, event.meta.eventId)) return true;
    // An earlier event of the stream that this subscriber takes has not finished (not DONE or
    // DEAD): this delivery waits, so the stream's events stay in sequence.
    if (await this.inbox.hasUnfinishedEarlier(subscriber, event)) {
      await this.sendLater(subscriber, event, attempts, STREAM_WAIT_MS);
      return true;
    }
    const { outcome, recorded } = await this.log.attempt(subscriber, event, attempts);
    // Every outcome not recorded with the subscriber's writes (a failure, or a run outside any
    // unit) gets its inbox row now, before the message is sent on or acked: the inbox is what
    // drops a redelivered copy. ParkedLanes differs on purpose: it leaves a DONE row to the
    // in-process consumer's next batch, as nothing redelivers an in-process delivery.
    if (!recorded) await this.log.recordOutcome(event, subscriber.id, outcome);
    if (outcome.status === 'DEAD') await this.sendToDeadLetters(subscriber, event, outcome);
    if (outcome.status === 'RETRY') {
      await this.sendLater(subscriber, event, outcome.attempts, outcome.notBefore! - Date.now());
    }
    return true;
  }

  /** To `<prefix>.dead-letters`, for whatever reads the broker; the dead-letter store has it. */
  private async sendToDeadLetters(
    subscriber: Subscriber,
    event: DomainEvent,
    outcome: DeliveryOutcome,
  ) {
    await this.connection.publishConfirmed((p) =>
      p.sendToQueue(this.names.deadLetters, encode(event), {
        ...properties(event, outcome.attempts),
        headers: {
          ...headers(event, outcome.attempts),
          'x-subscriber': subscriber.id,
          'x-error': outcome.error,
        },
      }),
    );
  }

  /** Back to the subscriber's queue after `ms`, through the delay queue that fits. */
  private async sendLater(
    subscriber: Subscriber,
    event: DomainEvent,
    attempts: number,
    ms: number,
  ) {
    const wait = Math.max(1, Math.round(ms));
    const bucket = DELAY_BUCKETS_MS.find((b) => b >= wait) ?? DELAY_BUCKETS_MS.at(-1)!;
    await this.connection.publishConfirmed((p) =>
      p.publish(this.names.delayOf(bucket), this.names.queueOf(subscriber.id), encode(event), {
        ...properties(event, attempts),
        expiration: String(Math.min(wait, bucket)),
      }),
    );
  }
}
