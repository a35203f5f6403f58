import { Public } from '../auth/auth.guards.js';
import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import type { Response } from 'express';
import { sql } from 'kysely';
import { AppConfig } from '../config/app-config.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import {
  EventTransport,
  type BrokerState,
  type TransportRole,
} from '../messaging/event-transport.js';
import { MessagingRuntime } from '../messaging/messaging-runtime.js';

/** How long readiness waits for the database before it counts as down. */
const DATABASE_CHECK_TIMEOUT_MS = 2000;

export interface Health {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable';
  broker: BrokerState;
  /**
   * Who delivers events: every instance through the broker; without one, the instance holding
   * the delivery lease ('delivering'), the others 'standing by' to take over.
   */
  events: TransportRole;
}

/**
 * Liveness and readiness for orchestrators and load balancers (terminus), and the original
 * summary at GET /health. Open to all, and never rate-limited (public routes skip the limit).
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly transport: EventTransport,
    private readonly runtime: MessagingRuntime,
    private readonly config: AppConfig,
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: '200 while the process answers; checks nothing else' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      '200 when this instance should get traffic: started and not shutting down, database and ' +
      'broker (if any) reachable, delivery backlog under BACKLOG_LIMIT; else 503',
  })
  async ready(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [
      () => this.lifecycle(),
      () =>
        this.indicator
          .check('database')
          .attempt(async () => {
            await sql`select 1`.execute(this.database.writer);
          })
          .withTimeout(DATABASE_CHECK_TIMEOUT_MS),
      () => this.backlog(),
    ];
    if (this.transport.brokerState !== 'not used') checks.push(() => this.broker());
    try {
      return await this.health.check(checks);
    } catch (error) {
      // Terminus reports "not ready" as an exception carrying its usual body: answer it as is.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return error.getResponse() as HealthCheckResult;
    }
  }

  /** Not ready before delivery has started, nor from the moment shutdown begins. */
  private lifecycle() {
    const session = this.indicator.check('lifecycle');
    const state = this.runtime.state;
    return state === 'running' ? session.up({ state }) : session.down({ state });
  }

  private backlog() {
    const session = this.indicator.check('backlog');
    const details = { waiting: this.runtime.waiting, limit: this.config.backlogLimit };
    return details.waiting > details.limit ? session.down(details) : session.up(details);
  }

  private broker() {
    const session = this.indicator.check('broker');
    return this.transport.brokerState === 'ok' ? session.up() : session.down();
  }

  /** The summary scripts and older probes read; kept as it was. */
  @Get()
  @ApiOperation({
    summary: '200 when the database and the broker (if any) are reachable, else 503',
  })
  async check(@Res({ passthrough: true }) response: Response): Promise<Health> {
    const database = await sql`select 1`.execute(this.database.writer).then(
      () => 'ok' as const,
      () => 'unreachable' as const,
    );
    const broker = this.transport.brokerState;
    const ok = database === 'ok' && broker !== 'disconnected';
    response.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', database, broker, events: this.transport.role };
  }
}
