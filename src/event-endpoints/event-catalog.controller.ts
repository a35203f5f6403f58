import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/auth.guards.js';
import { eventCatalog, RuntimeOptions, SubscriberRegistry } from '../durable-cqrs/index.js';

/** The AsyncAPI event catalog, beside the OpenAPI document: public like /docs. */
@Public()
@ApiExcludeController()
@Controller('docs')
export class EventCatalogController {
  constructor(
    private readonly subscribers: SubscriberRegistry,
    private readonly config: RuntimeOptions,
  ) {}

  @Get('asyncapi.json')
  catalog(): object {
    return eventCatalog(this.subscribers.all(), {
      title: 'Order service events',
      about:
        'The stream of an event is its order (streamId = the order id). GET /orders/{id}/events ' +
        'shows the same events with their metadata.',
      version: '0.1.0',
      amqpPrefix: this.config.amqpPrefix,
      brokerHost: this.config.amqpUrl ? new URL(this.config.amqpUrl).host : undefined,
    });
  }
}
