import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { RuntimeOptions } from './runtime-options.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import { inChunks } from './database/in-chunks.js';
import { notHandedOn } from './event-log-rows.js';
import type { Tx } from './unit-of-work.js';

/**
 * What the runtime's tables let go of, across them: inbox rows that guard nothing any more, the
 * whole story of streams that are over (events and their inbox rows), replayed dead letters; and
 * payloads rewritten in place (erasure of personal data). The one place that deletes from
 * `event_log`, `deliveries` and `dead_letters` for retention.
 */
@Injectable()
export class RetentionStore {
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
    let changed = 0;
    for (const ids of inChunks(streamIds)) changed += await this.rewriteSome(tx, ids, rewrite);
    return changed;
  }

  private async rewriteSome(
    tx: Tx,
    streamIds: readonly string[],
    rewrite: (payload: Record<string, unknown>) => boolean,
  ): Promise<number> {
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

  /**
   * Removes, in the given unit, the DONE inbox rows older than `before` of these streams' events
   * that are handed on (relayed to the broker, or behind the in-process checkpoint): such an
   * event is not delivered again, so its inbox rows guard nothing. Returns how many.
   */
  async purgeFinished(tx: Tx, streamIds: readonly string[], before: string): Promise<number> {
    if (streamIds.length === 0) return 0;
    const result = await tx.db
      .deleteFrom('deliveries')
      .where('status', '=', 'DONE')
      .where('updated_at', '<', before)
      .where('event_id', 'in', (eb) =>
        eb
          .selectFrom('event_log')
          .select('event_id')
          .where('stream_id', 'in', streamIds)
          .where(sql<boolean>`NOT ${notHandedOn(this.config, this.database.dialect)}`),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Removes up to `limit` dead letters replayed before `before` (the replay made a new delivery,
   * and a new dead letter if it failed again), in the given unit. Returns how many.
   */
  async purgeReplayed(tx: Tx, before: string, limit: number): Promise<number> {
    const ids = await tx.db
      .selectFrom('dead_letters')
      .select('id')
      .where('replayed_at', '<', before)
      .limit(limit)
      .execute();
    if (ids.length === 0) return 0;
    const result = await tx.db
      .deleteFrom('dead_letters')
      .where(
        'id',
        'in',
        ids.map((row) => row.id),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
