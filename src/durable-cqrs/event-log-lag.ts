import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { RuntimeOptions } from './runtime-options.js';
import { DATABASE } from './database/database.tokens.js';
import type { Database } from './database/database.js';
import type { OutboxLag } from './runtime-metrics.js';
import { afterPosition, IN_PROCESS } from './checkpoints.js';
import { notHandedOn } from './event-log-rows.js';

/** How far the hand-on of stored events lags: for the metrics and the console. */
@Injectable()
export class EventLogLag {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly config: RuntimeOptions,
  ) {}

  /**
   * How many events are still to be handed on (see notHandedOn; in-process, with the events of
   * parked deliveries) and the age of the oldest, for the metrics and the console.
   */
  async read(): Promise<OutboxLag> {
    const reader = this.database.reader;
    // In-process: the checkpoint first, so the count reads a range of the index, not the log.
    const checkpoint = this.config.amqpUrl
      ? undefined
      : await reader
          .selectFrom('consumer_checkpoints')
          .select(['tx_id', 'seq'])
          .where('consumer', '=', IN_PROCESS)
          .executeTakeFirstOrThrow();
    const waiting = checkpoint
      ? afterPosition(this.database.dialect, {
          txId: Number(checkpoint.tx_id),
          seq: Number(checkpoint.seq),
        })
      : notHandedOn(this.config, this.database.dialect);
    // In-process, an event behind the checkpoint still waits while a delivery of it is parked.
    const parked = this.config.amqpUrl
      ? undefined
      : reader
          .selectFrom('event_log')
          .select([
            (eb) => eb.fn.countAll().as('events'),
            (eb) => eb.fn.min('occurred_at').as('oldest'),
          ])
          .where('event_id', 'in', (eb) =>
            eb.selectFrom('deliveries').select('event_id').where('status', '=', 'RETRY'),
          )
          .where(sql<boolean>`NOT ${waiting}`)
          .executeTakeFirstOrThrow();
    const [counted, oldest, held] = await Promise.all([
      reader
        .selectFrom('event_log')
        .select((eb) => eb.fn.countAll().as('events'))
        .where(waiting)
        .executeTakeFirstOrThrow(),
      reader
        .selectFrom('event_log')
        .select('occurred_at')
        .where(waiting)
        .orderBy('tx_id')
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst(),
      parked,
    ]);
    const times = [oldest?.occurred_at, held?.oldest ?? undefined].filter((t) => t !== undefined);
    const first = times.length > 0 ? Math.min(...times.map((t) => Date.parse(t))) : Date.now();
    return {
      events: Number(counted.events) + Number(held?.events ?? 0),
      oldestAgeSeconds: Math.max(0, (Date.now() - first) / 1000),
    };
  }
}
