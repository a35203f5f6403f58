import { Public } from '../auth/auth.guards.js';
import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiDoc } from '../common/openapi.js';
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
import {
  type BrokerState,
  DATABASE,
  type Database,
  EventTransport,
  MessagingRuntime,
  type TransportRole,
} from '../durable-cqrs/index.js';

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

class HealthDto implements Health {
  @ApiProperty({ enum: ['ok', 'unavailable'] }) status: 'ok' | 'unavailable';
  @ApiProperty({ enum: ['ok', 'unreachable'] }) database: 'ok' | 'unreachable';
  @ApiProperty({ enum: ['ok', 'disconnected', 'not used'] }) broker: BrokerState;
  @ApiProperty({ enum: ['through the broker', 'delivering', 'standing by'] })
  events: TransportRole;
}

/** What one check of /health/ready found (terminus' format): `status` and its details. */
class HealthIndicatorDto {
  @ApiProperty({ enum: ['up', 'down'] }) status: 'up' | 'down';
}

/** Terminus' answer: the overall status and each check, those up and those down. */
class HealthCheckDto {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'] }) status: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/HealthIndicatorDto' },
  })
  info?: Record<string, HealthIndicatorDto>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/HealthIndicatorDto' },
  })
  error?: Record<string, HealthIndicatorDto>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/HealthIndicatorDto' },
  })
  details: Record<string, HealthIndicatorDto>;
}

/**
 * Liveness and readiness for orchestrators and load balancers (terminus), and the original
 * summary at GET /health. Open to all, and never rate-limited (public routes skip the limit).
 */
@ApiExtraModels(HealthIndicatorDto)
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
  @ApiDoc('Liveness', '200 while the process answers; checks nothing else. No token needed.')
  @ApiOkResponse({ type: HealthCheckDto, description: 'The process answers' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiDoc(
    'Readiness for traffic',
    '200 when this instance should get traffic: started and not shutting down, database and ' +
      'broker (if any) reachable, delivery backlog under BACKLOG_LIMIT; else 503. No token needed.',
  )
  @ApiOkResponse({ type: HealthCheckDto, description: 'Ready' })
  @ApiResponse({ status: 503, type: HealthCheckDto, description: 'Not ready: see `error`' })
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
  @ApiDoc(
    'Readiness',
    '200 when the database and the broker (if any) are reachable, else 503. No token needed.',
  )
  @ApiOkResponse({ type: HealthDto, description: 'Ready' })
  @ApiResponse({ status: 503, type: HealthDto, description: 'Not ready: see which part' })
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
