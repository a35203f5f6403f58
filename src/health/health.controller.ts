import { Public } from '../auth/auth.guards.js';
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/openapi.js';
import type { Response } from 'express';
import { sql } from 'kysely';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import {
  EventTransport,
  type BrokerState,
  type TransportRole,
} from '../messaging/event-transport.js';

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

/** Readiness for load balancers and orchestrators: 200 when the database (and broker) answer. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly transport: EventTransport,
  ) {}

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
