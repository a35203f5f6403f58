import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/openapi.js';
import { Registry } from 'prom-client';
import { Roles } from '../auth/auth.guards.js';
import { Metrics } from './metrics.js';

/** Prometheus scrape endpoint; admins only (it tells about traffic and failures). */
@ApiTags('admin')
@Roles('admin')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  @ApiDoc(
    'Metrics in the Prometheus text format',
    'Request durations, orders placed and finished, deliveries, retries and dead letters, outbox ' +
      'lag, group-commit sizes and the process (see the README). Admins only: give Prometheus a ' +
      'long-lived admin token.',
  )
  @ApiOkResponse({
    description: 'The metrics',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
