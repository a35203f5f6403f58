import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { DATABASE } from '../src/durable-cqrs/database/database.tokens.js';
import type { Database } from '../src/durable-cqrs/database/database.js';
import { DomainEvent, EventType } from '../src/durable-cqrs/domain-event.js';
import { DescribeEvent } from '../src/durable-cqrs/event-schema.js';
import {
  createTestApp,
  eventually,
  placeOrder,
  removeTempDatabases,
  settled,
  type TestApp,
} from './create-test-app.js';

afterAll(() => removeTempDatabases());

/**
 * An event whose payload changed shape: version 1 stored the weight in grams, version 2 stores a
 * value with its unit. This release writes version 2 and reads version 1 through the upcaster.
 */
@EventType('TestParcelWeighed', {
  version: 2,
  upcasters: { 1: ({ grams, ...rest }) => ({ ...rest, weight: { value: grams, unit: 'g' } }) },
})
@DescribeEvent({
  summary: 'A parcel of the order was weighed (a test event)',
  fields: {
    weight: {
      type: 'object',
      properties: { value: { type: 'number' }, unit: { type: 'string' } },
      required: ['value', 'unit'],
    },
  },
})
class ParcelWeighed extends DomainEvent {
  constructor(
    readonly orderId: string,
    readonly weight: { value: number; unit: string },
  ) {
    super();
  }

  get streamId(): string {
    return this.orderId;
  }
}

/** Records what each delivery received: the instance's fields and the version its meta names. */
@EventsHandler(ParcelWeighed)
class ParcelScale implements IEventHandler<ParcelWeighed> {
  static received: Array<{ orderId: string; weight: unknown; grams: unknown; version: number }> =
    [];

  handle(event: ParcelWeighed): void {
    ParcelScale.received.push({
      orderId: event.orderId,
      weight: event.weight,
      grams: (event as unknown as { grams?: unknown }).grams,
      version: event.meta.schemaVersion,
    });
  }
}

describe('events stored by an earlier schema version', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ providers: [ParcelScale] });
    await t.api.put('/inventory/parcel-product').send({
      name: 'Parcel',
      unitPrice: '2.00',
      available: 10,
    });
  });
  afterAll(() => t.close());

  it('are delivered, and listed in the history, in the shape of the version this release writes', async () => {
    const orderId = await placeOrder(t.api, [{ productId: 'parcel-product', quantity: 1 }]);
    await settled(t.api, orderId);
    // The row as an earlier release stored it: version 1's payload, version 1 in its column.
    const database = t.app.get<Database>(DATABASE);
    await database.writer
      .insertInto('event_log')
      .values({
        event_id: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17',
        type: 'TestParcelWeighed',
        stream_id: orderId,
        aggregate_type: 'Parcel',
        aggregate_id: orderId,
        aggregate_version: null,
        payload: JSON.stringify({ orderId, grams: 1200 }),
        correlation_id: 'earlier-release',
        causation_id: null,
        occurred_at: new Date().toISOString(),
        schema_version: 1,
        traceparent: null,
      })
      .execute();

    const [received] = await eventually(
      () => Promise.resolve(ParcelScale.received.filter((r) => r.orderId === orderId)),
      (found) => found.length > 0,
      { what: 'the version 1 event to be delivered' },
    );
    expect(received).toEqual({
      orderId,
      weight: { value: 1200, unit: 'g' },
      grams: undefined,
      version: 2,
    });

    const history = await t.api.get(`/orders/${orderId}/events`).expect(200);
    const stored = (history.body as Array<{ type: string; payload: unknown }>).find(
      (e) => e.type === 'TestParcelWeighed',
    );
    expect(stored?.payload).toEqual({ orderId, weight: { value: 1200, unit: 'g' } });
  });

  it('shows the version each event type writes in the event catalog', async () => {
    const catalog = await t.api.get('/docs/asyncapi.json').expect(200);
    const messages = (
      catalog.body as { components: { messages: Record<string, { 'x-schema-version': number }> } }
    ).components.messages;
    expect(messages.TestParcelWeighed['x-schema-version']).toBe(2);
    expect(messages.OrderCreated['x-schema-version']).toBe(1);
  });
});
