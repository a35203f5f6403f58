import { registeredEventTypes } from './domain-event.js';
import { eventDescriptionOf, payloadSchemaOf, type FieldSchema } from './event-schema.js';
import type { Subscriber } from './subscribers.js';

export interface CatalogOptions {
  /** The application's name for its events, and what it wants to add about them. */
  title: string;
  about?: string;
  version: string;
  /** AMQP_PREFIX: names the exchange and queues when a broker is used. */
  amqpPrefix: string;
  /** The broker's host:port (never its credentials), when AMQP_URL is set. */
  brokerHost?: string;
}

/** What the event log knows beside the payload (EventMeta); the broker message carries it. */
const EVENT_META: FieldSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer', description: 'Position in the event log' },
    eventId: { type: 'string', format: 'uuid' },
    type: { type: 'string', description: 'The event type, also the routing key' },
    streamId: { type: 'string', description: 'Delivered in order per stream' },
    aggregateType: { type: 'string' },
    aggregateId: { type: 'string' },
    aggregateVersion: { type: ['integer', 'null'] },
    correlationId: { type: 'string' },
    causationId: { type: ['string', 'null'], description: 'The event that caused this one' },
    occurredAt: { type: 'string', format: 'date-time' },
    schemaVersion: { type: 'integer' },
  },
  required: ['seq', 'eventId', 'type', 'streamId', 'correlationId', 'occurredAt'],
};

/** AMQP headers of a delivery: a retried one counts its attempts. */
const HEADERS: FieldSchema = {
  type: 'object',
  properties: { 'x-attempts': { type: 'integer', minimum: 0 } },
};

/** Operation and message keys allow letters, digits, `_` and `-` only. */
const key = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * The AsyncAPI 3 catalog of the domain events: every registered event type with its payload
 * schema (from the class), the module that raises it and the subscribers that take it. With a
 * broker, each type is published to the topic exchange `<prefix>.events` under its name as the
 * routing key, and each subscriber consumes from its queue `<prefix>.sub.<subscriber>`.
 */
export function eventCatalog(subscribers: Subscriber[], options: CatalogOptions): object {
  const exchange = `${options.amqpPrefix}.events`;
  const channels: Record<string, object> = {};
  const operations: Record<string, object> = {};
  const messages: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  for (const { type, cls, schemaVersion } of registeredEventTypes().sort((a, b) =>
    a.type.localeCompare(b.type),
  )) {
    const description = eventDescriptionOf(cls);
    const takers = subscribers.filter((s) => s.eventTypes.includes(type)).map((s) => s.id);
    const producer = description?.producer ?? 'unknown';
    schemas[type] = { ...payloadSchemaOf(cls), description: description?.summary };
    messages[type] = {
      name: type,
      title: type,
      summary: description?.summary ?? type,
      contentType: 'application/json',
      headers: HEADERS,
      payload: {
        type: 'object',
        description: 'As the broker carries it: the event log metadata and the event itself',
        properties: {
          meta: { $ref: '#/components/schemas/EventMeta' },
          payload: { $ref: `#/components/schemas/${type}` },
        },
        required: ['meta', 'payload'],
      },
      'x-producer': producer,
      'x-subscribers': takers,
      // The version this release writes; events stored by earlier versions are read through the
      // class's upcasters (every version from 1 up).
      'x-schema-version': schemaVersion,
    };
    channels[type] = {
      address: type,
      title: type,
      description:
        `Raised by the ${producer} module; taken by ${takers.join(', ') || 'no subscriber'}. ` +
        `Through a broker: the topic exchange ${exchange}, routing key ${type}.`,
      messages: { [type]: { $ref: `#/components/messages/${type}` } },
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
          bindingVersion: '0.3.0',
        },
      },
    };
    operations[`send${type}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${type}` },
      title: `${producer} raises ${type}`,
      summary: `Stored in the event log by the ${producer} module, in the transaction of its change`,
      description:
        `The ${producer} module appends ${type} to the event log (the outbox) in the ` +
        'transaction of the change it records; the runtime then delivers it to every subscriber ' +
        'in-process, or relays it to the broker.',
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      tags: [{ name: producer }],
    };
    for (const subscriber of takers) {
      operations[`${key(subscriber)}_receives${type}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${type}` },
        title: `${subscriber} takes ${type}`,
        summary: `Through a broker, from the queue ${options.amqpPrefix}.sub.${subscriber}`,
        description:
          `${subscriber} receives every ${type} at least once, in order per stream; what it ` +
          'writes commits with the record of its delivery, so its effect happens once. A failure ' +
          'is retried with backoff, then dead-lettered.',
        messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title,
      version: options.version,
      description:
        'Each event is stored in the event log (the outbox) in the transaction of the change ' +
        'that raised it, then delivered at least once to each subscriber, in order per stream, ' +
        'and a redelivery is ignored. Without a broker delivery is in process; with one, ' +
        'through RabbitMQ (message properties: messageId = eventId, type, correlationId, ' +
        'timestamp).' +
        (options.about ? ` ${options.about}` : ''),
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: {
        host: options.brokerHost ?? 'localhost:5672',
        protocol: 'amqp',
        description: 'The broker of AMQP_URL, when set',
      },
    },
    channels,
    operations,
    components: { schemas: { ...schemas, EventMeta: EVENT_META }, messages },
  };
}
