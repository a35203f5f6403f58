import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { UnitOfWork } from './unit-of-work.js';
import { EventDispatcher } from './dispatcher.js';
import { AmqpTransport } from './rabbitmq/amqp-transport.js';

export class OverloadedError extends DomainError {
  constructor(waiting: number, limit: number) {
    super(
      'SERVICE_OVERLOADED',
      `The service is at its limit (${waiting} events waiting, limit ${limit}); nothing was done. Try again shortly.`,
    );
  }
}

/** Starts and stops delivery: in-process by default, through RabbitMQ when AMQP_URL is set. */
@Injectable()
export class MessagingRuntime {
  constructor(
    private readonly dispatcher: EventDispatcher,
    private readonly amqp: AmqpTransport,
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * Refuses new work (503 with Retry-After) while more than BACKLOG_LIMIT events wait in memory for
   * delivery or units wait for a commit: memory stays bounded, and the orders already accepted
   * keep their pace instead of all slowing down together.
   */
  assertAcceptingWork(): void {
    const waiting = this.dispatcher.backlog + this.uow.stats.waiting;
    if (waiting > this.config.backlogLimit) {
      this.overloadRefusals++;
      throw new OverloadedError(waiting, this.config.backlogLimit);
    }
  }

  /** Requests refused by back-pressure since the start. */
  overloadRefusals = 0;

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
