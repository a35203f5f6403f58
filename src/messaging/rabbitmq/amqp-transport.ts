import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from 'amqplib';
import { AppConfig } from '../../config/app-config.js';
import { CommitSignal } from '../commit-signal.js';
import { DeliveryLog, describeError } from '../delivery-log.js';
import { attachMeta, reviveEvent, type DomainEvent, type EventMeta } from '../domain-event.js';
import { EventStore } from '../event-store.js';
import type { BrokerState, EventTransport, TransportRole } from '../event-transport.js';
import { SubscriberRegistry, type Subscriber } from '../subscribers.js';
import { ChannelAcks } from './channel-acks.js';

const RELAY_BATCH = 200;
/** Delay queues: a retry waits in the smallest one that is at least its backoff. */
const DELAY_BUCKETS_MS = [50, 250, 1000, 5000, 30000, 120000];
/** How long a delivery waits when an earlier event of its stream is not done yet. */
const STREAM_WAIT_MS = 50;
const RECONNECT_MS = 1000;
/** Longest wait for publisher confirms before a publish counts as failed (and is retried). */
const CONFIRM_TIMEOUT_MS = 10_000;

interface Topology {
  events: string;
  requeue: string;
  deadLetters: string;
  queueOf(subscriberId: string): string;
  delayOf(ms: number): string;
}

function topology(prefix: string): Topology {
  return {
    events: `${prefix}.events`,
    requeue: `${prefix}.requeue`,
    deadLetters: `${prefix}.dead-letters`,
    queueOf: (subscriberId) => `${prefix}.sub.${subscriberId}`,
    delayOf: (ms) => `${prefix}.delay.${ms}`,
  };
}

/**
 * RabbitMQ transport for running several instances (AMQP_URL).
 *
 * - Relay: every instance claims committed, unrelayed events from the outbox (event_log) with
 *   FOR UPDATE SKIP LOCKED, publishes them persistently to the topic exchange `<prefix>.events`
 *   (routing key: event type), waits for publisher confirms, then marks them relayed.
 * - Each subscriber has its own durable queue `<prefix>.sub.<subscriber>`, bound to the event
 *   types it takes; all instances consume from it (competing consumers). A message is acked only
 *   after the subscriber's work and its delivery record have committed.
 * - The inbox (deliveries) drops a redelivered message that was already handled.
 * - Per stream, a subscriber handles events in sequence: a delivery whose stream has an earlier
 *   event this subscriber takes and has not finished waits (briefly, through a delay queue).
 * - A failure is retried through delay queues (`<prefix>.delay.<ms>`, dead-lettered back to the
 *   subscriber's queue through `<prefix>.requeue`) with exponential backoff and jitter; after
 *   RETRY_MAX_ATTEMPTS the message goes to `<prefix>.dead-letters` and the dead-letter store.
 * - A lost connection is re-established with the topology; unacked messages are redelivered.
 */
@Injectable()
export class AmqpTransport implements EventTransport {
  private readonly logger = new Logger(AmqpTransport.name);
  private readonly names: Topology;
  private model?: ChannelModel;
  private publisher?: ConfirmChannel;
  private consumers: Array<{ channel: Channel; tag: string; acks: ChannelAcks }> = [];
  /** Consumer channels still open: a message of a closed one can no longer be acked. */
  private readonly openChannels = new WeakSet<Channel>();
  private connecting?: Promise<void>;
  private stopping = false;
  private relaying = false;
  private relayAgain = false;
  private relayTimer?: NodeJS.Timeout;
  private inFlight = 0;
  private running = 0;
  private waiting: Array<() => void> = [];
  private idle: Array<() => void> = [];

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SubscriberRegistry,
    private readonly log: DeliveryLog,
    private readonly store: EventStore,
    signal: CommitSignal,
  ) {
    this.names = topology(config.amqpPrefix);
    signal.onCommitted(() => this.kickRelay());
  }

  readonly role: TransportRole = 'through the broker';

  get brokerState(): BrokerState {
    return this.publisher ? 'ok' : 'disconnected';
  }

  /**
   * Nothing for back-pressure to count: the backlog waits in the broker's queues, and this
   * instance takes at most AMQP_PREFETCH messages from each at a time.
   */
  readonly backlog = 0;

  async start(): Promise<void> {
    this.registry.discover();
    this.stopping = false;
    await this.connect();
    this.scheduleRelayPoll();
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.relayTimer) clearTimeout(this.relayTimer);
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
    await this.model?.close().catch(() => undefined);
    this.model = undefined;
    this.publisher = undefined;
  }

  /** Closes the broker connection as a network failure would; the transport reconnects. */
  async dropConnection(): Promise<void> {
    await this.model?.close().catch(() => undefined);
  }

  /** Sends a dead-lettered event to the subscriber's queue again, with fresh attempts. */
  async replay(subscriberId: string, event: DomainEvent): Promise<void> {
    if (!this.publisher) throw new Error('Not connected to RabbitMQ; try again');
    await this.log.reopen(subscriberId, event.meta.eventId);
    this.publisher.publish(
      this.names.requeue,
      this.names.queueOf(subscriberId),
      encode(event),
      properties(event, 0),
    );
    await confirmed(this.publisher);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.open();
        this.logger.log(`Connected to RabbitMQ (${this.config.amqpPrefix}.*)`);
        this.kickRelay();
        return;
      } catch (error: unknown) {
        this.logger.warn(`RabbitMQ not reachable: ${describeError(error)}; retrying`);
        await this.model?.close().catch(() => undefined);
        this.model = undefined;
        this.publisher = undefined;
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
      this.publisher = undefined;
      this.consumers = [];
      if (!this.stopping) {
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
    this.publisher = publisher;
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

  // ---- relay: outbox to exchange ------------------------------------------------------------

  private scheduleRelayPoll(): void {
    if (this.stopping) return;
    this.relayTimer = setTimeout(() => {
      this.kickRelay();
      this.scheduleRelayPoll();
    }, this.config.dispatchPollMs);
    this.relayTimer.unref();
  }

  private kickRelay(): void {
    if (this.stopping || !this.publisher) return;
    if (this.relaying) {
      this.relayAgain = true;
      return;
    }
    this.relaying = true;
    void (async () => {
      try {
        do {
          this.relayAgain = false;
          while ((await this.relayBatch()) === RELAY_BATCH && !this.stopping);
        } while (this.relayAgain && !this.stopping);
      } catch (error: unknown) {
        this.logger.warn(`Relay paused: ${describeError(error)}`);
      } finally {
        this.relaying = false;
      }
    })();
  }

  /** Publishes one batch of unrelayed events with one confirm wait; returns how many. */
  private relayBatch(): Promise<number> {
    const publisher = this.publisher;
    if (!publisher) return Promise.resolve(0);
    return this.store.relay(RELAY_BATCH, async (events) => {
      for (const event of events) {
        publisher.publish(this.names.events, event.meta.type, encode(event), properties(event, 0));
      }
      await confirmed(publisher);
    });
  }

  // ---- consumers ------------------------------------------------------------------------------

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
      if (this.stopping || !this.openChannels.has(channel)) return;
      const event = decode(msg);
      const attempts = Number(msg.properties.headers?.['x-attempts'] ?? 0);
      const settled = await this.handle(subscriber, event, attempts);
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
    if (await this.log.isDone(subscriber.id, event.meta.eventId)) return true;
    if (await this.waitsForEarlierEvent(subscriber, event)) {
      await this.sendLater(subscriber, event, attempts, STREAM_WAIT_MS);
      return true;
    }
    const { outcome, recorded } = await this.log.attempt(subscriber, event, attempts);
    if (outcome.status !== 'DONE') {
      // The delivery log has written the failure's line.
      await this.log.recordOutcome(event, subscriber.id, outcome);
      if (outcome.status === 'DEAD') {
        await this.publishConfirmed((p) =>
          p.sendToQueue(this.names.deadLetters, encode(event), {
            ...properties(event, outcome.attempts),
            headers: {
              ...headers(event, outcome.attempts),
              'x-subscriber': subscriber.id,
              'x-error': outcome.error,
            },
          }),
        );
      } else {
        await this.sendLater(subscriber, event, outcome.attempts, outcome.notBefore! - Date.now());
      }
      return true;
    }
    if (!recorded) await this.log.recordOutcome(event, subscriber.id, outcome);
    return true;
  }

  /**
   * True when the stream has an earlier event that this subscriber takes and has not finished
   * (not DONE or DEAD): this delivery must wait so the stream's events stay in sequence.
   */
  private waitsForEarlierEvent(subscriber: Subscriber, event: DomainEvent): Promise<boolean> {
    return this.log.hasUnfinishedEarlier(subscriber, event);
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
    await this.publishConfirmed((p) =>
      p.publish(this.names.delayOf(bucket), this.names.queueOf(subscriber.id), encode(event), {
        ...properties(event, attempts),
        expiration: String(Math.min(wait, bucket)),
      }),
    );
  }

  private async publishConfirmed(publish: (channel: ConfirmChannel) => void): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) throw new Error('Not connected to RabbitMQ');
    publish(publisher);
    await confirmed(publisher);
  }
}

/**
 * Waits for the broker to confirm everything published on the channel, but never forever: a
 * closed channel or CONFIRM_TIMEOUT_MS fails the wait (amqplib may leave a confirm unanswered when
 * the channel closes). A failed wait means "maybe published": the caller retries, and the inbox
 * drops a second copy.
 */
function confirmed(channel: ConfirmChannel): Promise<void> {
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

function encode(event: DomainEvent): Buffer {
  return Buffer.from(JSON.stringify({ meta: event.meta, payload: event }));
}

function decode(msg: ConsumeMessage): DomainEvent {
  const { meta, payload } = JSON.parse(msg.content.toString('utf8')) as {
    meta: EventMeta;
    payload: Record<string, unknown>;
  };
  // A message published by an earlier release carries its version: read through the upcasters.
  const event = reviveEvent(meta.type, payload, meta.schemaVersion);
  // A message published before events carried a trace has it in none of its places.
  attachMeta(event, { ...meta, traceparent: meta.traceparent ?? null });
  return event;
}

function properties(event: DomainEvent, attempts: number) {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: event.meta.eventId,
    type: event.meta.type,
    correlationId: event.meta.correlationId,
    timestamp: Math.floor(Date.parse(event.meta.occurredAt) / 1000),
    headers: headers(event, attempts),
  };
}

/** The attempt count, and the event's trace for whatever reads the broker (a tracing agent). */
function headers(event: DomainEvent, attempts: number): Record<string, unknown> {
  return event.meta.traceparent
    ? { 'x-attempts': attempts, traceparent: event.meta.traceparent }
    : { 'x-attempts': attempts };
}
