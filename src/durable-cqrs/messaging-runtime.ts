import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DomainError } from './domain-error.js';
import { RuntimeOptions } from './runtime-options.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import { EventLogLag } from './event-log-lag.js';
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

/**
 * Where the runtime is in its life, as readiness reports it: 'starting' until delivery has
 * started, 'running', then 'draining' from the moment the application begins to close.
 */
export type RuntimeState = 'starting' | 'running' | 'draining';

/** Starts and stops delivery through the transport chosen at boot, and guards its backlog. */
@Injectable()
export class MessagingRuntime implements OnModuleDestroy {
  private current: RuntimeState = 'starting';

  constructor(
    private readonly transport: EventTransport,
    private readonly config: RuntimeOptions,
    private readonly uow: UnitOfWork,
    lag: EventLogLag,
    metrics: RuntimeMetrics,
  ) {
    metrics.readOutboxLagWith(() => lag.read());
  }

  get state(): RuntimeState {
    return this.current;
  }

  /** Events and units of work waiting in memory: what BACKLOG_LIMIT bounds. */
  get waiting(): number {
    return this.transport.backlog + this.uow.stats.waiting;
  }

  /**
   * Refuses new work (503 with Retry-After) while more than BACKLOG_LIMIT events wait in memory for
   * delivery or units wait for a commit: memory stays bounded, and the work already accepted
   * keep their pace instead of all slowing down together.
   */
  assertAcceptingWork(): void {
    const waiting = this.waiting;
    if (waiting > this.config.backlogLimit) {
      throw new OverloadedError(waiting, this.config.backlogLimit);
    }
  }

  async start(): Promise<void> {
    await this.transport.start();
    if (this.current === 'starting') this.current = 'running';
  }

  /**
   * The first hook of `app.close()` (SIGTERM): from here readiness fails, so load balancers stop
   * sending work while the HTTP server still answers and deliveries under way finish.
   */
  onModuleDestroy(): void {
    this.current = 'draining';
  }

  /** Waits up to timeoutMs for deliveries under way; the rest is redelivered after a restart. */
  stop(timeoutMs: number): Promise<void> {
    return this.transport.stop(timeoutMs);
  }
}
