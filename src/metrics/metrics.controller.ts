import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
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
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'Metrics in the Prometheus text format' })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
