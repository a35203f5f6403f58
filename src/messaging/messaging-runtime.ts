import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { EventDispatcher } from './dispatcher.js';
import { AmqpTransport } from './rabbitmq/amqp-transport.js';

/** Starts and stops delivery: in-process by default, through RabbitMQ when AMQP_URL is set. */
@Injectable()
export class MessagingRuntime {
  constructor(
    private readonly dispatcher: EventDispatcher,
    private readonly amqp: AmqpTransport,
    private readonly config: AppConfig,
  ) {}

  get usesBroker(): boolean {
    return this.config.amqpUrl !== '';
  }

  get brokerState(): 'ok' | 'disconnected' | 'not used' {
    if (!this.usesBroker) return 'not used';
    return this.amqp.connected ? 'ok' : 'disconnected';
  }

  get role(): 'through the broker' | 'delivering' | 'standing by' {
    if (this.usesBroker) return 'through the broker';
    return this.dispatcher.delivering ? 'delivering' : 'standing by';
  }

  async start(): Promise<void> {
    if (this.usesBroker) await this.amqp.start();
    else await this.dispatcher.start();
  }

  /** Waits up to timeoutMs for deliveries under way; the rest is redelivered after a restart. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.usesBroker) await this.amqp.stop(timeoutMs);
    else await this.dispatcher.stop(timeoutMs);
  }

  /** Delivers a dead-lettered event to its subscriber again. */
  async replay(subscriberId: string, event: Parameters<EventDispatcher['replay']>[1]) {
    if (this.usesBroker) await this.amqp.replay(subscriberId, event);
    else await this.dispatcher.replay(subscriberId, event);
  }
}
