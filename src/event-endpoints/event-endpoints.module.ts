import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller.js';
import { EventCatalogController } from './event-catalog.controller.js';

/**
 * The durable runtime's endpoints as this service exposes them, behind its own access control:
 * the dead letters and their replay (admins), the AsyncAPI event catalog (public, like /docs).
 * The runtime serves no HTTP of its own; an application mounts what it wants of it.
 */
@Module({ controllers: [DeadLettersController, EventCatalogController] })
export class EventEndpointsModule {}
