import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/auth.guards.js';
import { RuntimeOptions } from '../messaging/runtime-options.js';
import { eventCatalog } from '../messaging/event-catalog.js';
import { SubscriberRegistry } from '../messaging/subscribers.js';

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
      version: '0.1.0',
      amqpPrefix: this.config.amqpPrefix,
      brokerHost: this.config.amqpUrl ? new URL(this.config.amqpUrl).host : undefined,
    });
  }
}
