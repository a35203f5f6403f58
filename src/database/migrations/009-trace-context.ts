import type { Kysely, Migration } from 'kysely';

/**
 * Every event keeps its W3C traceparent: the trace id of its cause (the request or the event it
 * was handled from) and a span id of its own, so a tracing backend can join an order's whole
 * story. Events stored before have none (null).
 */
export const traceContext: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('event_log').addColumn('traceparent', 'text').execute();
  },
};
