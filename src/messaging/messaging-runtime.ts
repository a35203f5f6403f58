import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { EventTransport } from './event-transport.js';
import { UnitOfWork } from './unit-of-work.js';

export class OverloadedError extends DomainError {
  constructor(waiting: number, limit: number) {
    super(
      'SERVICE_OVERLOADED',
      `The service is at its limit (${waiting} events waiting, limit ${limit}); nothing was done. Try again shortly.`,
    );
  }
}

/** Starts and stops delivery through the transport chosen at boot, and guards its backlog. */
@Injectable()
export class MessagingRuntime {
  constructor(
    private readonly transport: EventTransport,
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
  ) {}

  /**
   * Refuses new work (503 with Retry-After) while more than BACKLOG_LIMIT events wait in memory for
   * delivery or units wait for a commit: memory stays bounded, and the work already accepted
   * keep their pace instead of all slowing down together.
   */
  assertAcceptingWork(): void {
    const waiting = this.transport.backlog + this.uow.stats.waiting;
    if (waiting > this.config.backlogLimit) {
      throw new OverloadedError(waiting, this.config.backlogLimit);
    }
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  /** Waits up to timeoutMs for deliveries under way; the rest is redelivered after a restart. */
  stop(timeoutMs: number): Promise<void> {
    return this.transport.stop(timeoutMs);
  }
}
