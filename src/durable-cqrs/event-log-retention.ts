import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { RuntimeOptions } from './runtime-options.js';
import { DATABASE } from '../database/database.tokens.js';
import type { Database } from '../database/database.js';
import { notHandedOn } from './event-log-rows.js';
import type { Tx } from './unit-of-work.js';

/**
 * What leaves the event log other than by delivery: the whole story of streams that are over
 * (retention), and payloads rewritten in place (erasure of personal data).
 */
@Injectable()
export class EventLogRetention {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: RuntimeOptions,
  ) {}

  /**
   * Removes the whole log (events and their inbox rows) of streams whose story is over, in the
   * given unit. A stream that still has work is left whole: an undelivered event, a delivery to
   * be retried or a dead letter not yet replayed. Returns what was removed.
   */
  async purgeStreams(
    tx: Tx,
    streamIds: readonly string[],
  ): Promise<{ events: number; deliveries: number }> {
    if (streamIds.length === 0) return { events: 0, deliveries: 0 };
    const busy = await tx.db
      .selectFrom('event_log as e')
      .select('e.stream_id')
      .where('e.stream_id', 'in', streamIds)
      .where((eb) =>
        eb.or([
          notHandedOn(this.config, this.database.dialect, 'e'),
          eb.exists(
            eb
              .selectFrom('deliveries as d')
              .select(sql.lit(1).as('one'))
              .whereRef('d.event_id', '=', 'e.event_id')
              .where('d.status', '=', 'RETRY'),
          ),
        ]),
      )
      .union(
        tx.db
          .selectFrom('dead_letters')
          .select('stream_id')
          .where('stream_id', 'in', streamIds)
          .where('replayed_at', 'is', null),
      )
      .execute();
    const blocked = new Set(busy.map((row) => row.stream_id));
    const done = streamIds.filter((id) => !blocked.has(id));
    if (done.length === 0) return { events: 0, deliveries: 0 };
    const deliveries = await tx.db
      .deleteFrom('deliveries')
      .where('event_id', 'in', (eb) =>
        eb.selectFrom('event_log').select('event_id').where('stream_id', 'in', done),
      )
      .executeTakeFirst();
    const events = await tx.db
      .deleteFrom('event_log')
      .where('stream_id', 'in', done)
      .executeTakeFirst();
    return {
      events: Number(events.numDeletedRows),
      deliveries: Number(deliveries.numDeletedRows),
    };
  }

  /**
   * Rewrites the payloads of these streams' events in the given unit (an erasure of personal
   * data); the events stay, with their sequence, type and metadata. Returns how many changed.
   */
  async rewritePayloads(
    tx: Tx,
    streamIds: readonly string[],
    rewrite: (payload: Record<string, unknown>) => boolean,
  ): Promise<number> {
    if (streamIds.length === 0) return 0;
    const rows = await tx.db
      .selectFrom('event_log')
      .select(['seq', 'payload'])
      .where('stream_id', 'in', streamIds)
      .execute();
    let changed = 0;
    for (const row of rows) {
      const payload = JSON.parse(row.payload) as Record<string, unknown>;
      if (!rewrite(payload)) continue;
      await tx.db
        .updateTable('event_log')
        .set({ payload: JSON.stringify(payload) })
        .where('seq', '=', row.seq)
        .execute();
      changed++;
    }
    return changed;
  }
}
