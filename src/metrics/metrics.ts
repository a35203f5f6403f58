import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { RuntimeMetrics, SHORT_SECONDS } from '../durable-cqrs/index.js';

/**
 * The service's Prometheus metrics (HTTP, orders, the process), in a registry of this
 * application's own (not prom-client's global one), so several applications in one process (the
 * tests) never share or clash; rendered with the durable runtime's (RuntimeMetrics).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SHORT_SECONDS,
    registers: [this.registry],
  });

  readonly ordersPlaced = new Counter({
    name: 'orders_placed_total',
    help: 'Orders accepted (OrderCreated committed)',
    registers: [this.registry],
  });

  readonly ordersFinished = new Counter({
    name: 'orders_finished_total',
    help: 'Orders that reached a final status (the terminal event committed), by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly orderDuration = new Histogram({
    name: 'order_duration_seconds',
    help: 'Time from placing an order to its final status, by status',
    labelNames: ['status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  constructor(private readonly runtime: RuntimeMetrics) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return Registry.merge([this.registry, this.runtime.registry]).metrics();
  }
}
