import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/openapi.js';
import { Roles } from '../auth/auth.guards.js';
import {
  type BrokerState,
  DeadLetterStore,
  EventLogLag,
  EventTransport,
  type TransportRole,
} from '../durable-cqrs/index.js';
import { GetOrderActivity } from '../orders/queries/get-order-activity/get-order-activity.query.js';

/** How many minutes of throughput the overview reports. */
export const OVERVIEW_MINUTES = 15;

export class MinuteOfOrdersDto {
  @ApiProperty({ example: '2026-01-31T12:34', description: 'The minute (UTC)' }) minute: string;
  @ApiProperty() completed: number;
  @ApiProperty() failed: number;
  @ApiProperty() cancelled: number;
}

export class OutboxLagDto {
  @ApiProperty({ description: 'Events not yet handed on to every subscriber (or the broker)' })
  waiting: number;
  @ApiProperty({ description: 'Age of the oldest of them in seconds; 0 when none waits' })
  oldestSeconds: number;
}

export class DeadLetterCountDto {
  @ApiProperty({ description: 'Dead letters not replayed yet' }) open: number;
}

export class InstanceDto {
  @ApiProperty({ enum: ['through the broker', 'delivering', 'standing by'] })
  role: TransportRole;
  @ApiProperty({ enum: ['ok', 'disconnected', 'not used'] }) broker: BrokerState;
  @ApiProperty({ description: 'Events this instance holds in memory waiting for delivery' })
  backlog: number;
}

export class OverviewDto {
  @ApiProperty({
    example: { PENDING: 0, COMPLETED: 12, FAILED: 1 },
    description: 'Orders in each status',
  })
  ordersByStatus: Record<string, number>;
  @ApiProperty({
    type: MinuteOfOrdersDto,
    isArray: true,
    description: `Orders that ended in each of the last ${OVERVIEW_MINUTES} minutes, oldest first`,
  })
  perMinute: MinuteOfOrdersDto[];
  @ApiProperty() outbox: OutboxLagDto;
  @ApiProperty() deadLetters: DeadLetterCountDto;
  @ApiProperty({ description: 'The instance that answered' }) instance: InstanceDto;
  @ApiProperty({ format: 'date-time' }) generatedAt: string;
}

/** What an operator watches, in one cheap request (the console's overview polls it). */
@ApiTags('admin')
@Roles('admin')
@Controller('admin/overview')
export class OverviewController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly lag: EventLogLag,
    private readonly deadLetters: DeadLetterStore,
    private readonly transport: EventTransport,
  ) {}

  @Get()
  @ApiDoc(
    'What the operator console shows first',
    'Orders by status, orders ended per minute over the last minutes, outbox lag, open dead ' +
      'letters and the role of the instance that answers. Admins only.',
  )
  @ApiOkResponse({ type: OverviewDto })
  async overview(): Promise<OverviewDto> {
    const now = new Date();
    const [activity, lag, open] = await Promise.all([
      this.queryBus.execute(new GetOrderActivity(OVERVIEW_MINUTES, now)),
      this.lag.read(),
      this.deadLetters.countOpen(),
    ]);
    return {
      ...activity,
      outbox: { waiting: lag.events, oldestSeconds: Math.round(lag.oldestAgeSeconds) },
      deadLetters: { open },
      instance: {
        role: this.transport.role,
        broker: this.transport.brokerState,
        backlog: this.transport.backlog,
      },
      generatedAt: now.toISOString(),
    };
  }
}
