import { sql } from 'kysely';
import { SharedRead, SharedWrite } from './database/shared-statements.js';
import type { DeliveryStatus } from './database/tables.js';
import type { Statement } from './database/statement.js';

/** What a delivery through the broker asks of the inbox before it runs (see Inbox). */
export interface InboxQuestion {
  subscriberId: string;
  eventId: string;
}
export interface EarlierQuestion {
  subscriberId: string;
  /** The types the subscriber takes: only their events hold it back. */
  eventTypes: readonly string[];
  streamId: string;
  seq: number;
}

const FINISHED = ['DONE', 'DEAD'] as const;

/**
 * Whether the subscriber finished this event already (DONE or DEAD). On PostgreSQL the questions
 * of a moment (many messages arrive at once) share one statement (see SharedRead).
 */
export const finishedInInbox = new SharedRead<InboxQuestion, boolean>(
  async (runner, { subscriberId, eventId }) => {
    const row = await runner.db
      .selectFrom('deliveries')
      .select('status')
      .where('subscriber', '=', subscriberId)
      .where('event_id', '=', eventId)
      .executeTakeFirst();
    return row?.status === 'DONE' || row?.status === 'DEAD';
  },
  async (runner, questions) => {
    const { rows } = await runner.runSql<{ n: string }>(
      `SELECT v.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(subscriber, event_id, n)
         CROSS JOIN LATERAL (
           SELECT 1 FROM deliveries d
            WHERE d.event_id = v.event_id AND d.subscriber = v.subscriber
              AND d.status IN ('DONE', 'DEAD')
            LIMIT 1) AS finished`,
      [questions.map((q) => q.subscriberId), questions.map((q) => q.eventId)],
    );
    return answers(questions.length, rows);
  },
);

/**
 * Whether the stream has an earlier event of a type the subscriber takes that it has not finished
 * (not DONE or DEAD): the delivery must wait, so the stream's events stay in sequence. Shared on
 * PostgreSQL as above.
 */
export const unfinishedEarlier = new SharedRead<EarlierQuestion, boolean>(
  async (runner, { subscriberId, eventTypes, streamId, seq }) => {
    const pending = await runner.db
      .selectFrom('event_log as e')
      .select('e.seq')
      .where('e.stream_id', '=', streamId)
      .where('e.seq', '<', seq)
      .where('e.type', 'in', [...eventTypes])
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('deliveries as d')
              .select(sql.lit(1).as('one'))
              .whereRef('d.event_id', '=', 'e.event_id')
              .where('d.subscriber', '=', subscriberId)
              .where('d.status', 'in', [...FINISHED]),
          ),
        ),
      )
      .limit(1)
      .executeTakeFirst();
    return pending !== undefined;
  },
  async (runner, questions) => {
    // Event type names are class names: a comma never appears in one.
    const { rows } = await runner.runSql<{ n: string }>(
      `SELECT v.n
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
              WITH ORDINALITY AS v(stream_id, seq, subscriber, types, n)
        CROSS JOIN LATERAL (
          SELECT 1 FROM event_log e
           WHERE e.stream_id = v.stream_id AND e.seq < v.seq
             AND e.type = ANY(string_to_array(v.types, ','))
             AND NOT EXISTS (
               SELECT 1 FROM deliveries d
                WHERE d.event_id = e.event_id AND d.subscriber = v.subscriber
                  AND d.status IN ('DONE', 'DEAD'))
           LIMIT 1) AS pending`,
      [
        questions.map((q) => q.streamId),
        questions.map((q) => q.seq),
        questions.map((q) => q.subscriberId),
        questions.map((q) => q.eventTypes.join(',')),
      ],
    );
    return answers(questions.length, rows);
  },
);

/*
 * Both statements look each question up by key in a LATERAL subquery with LIMIT 1, which the
 * planner runs once per question on the tables' indexes. Written as a join or EXISTS, it may
 * instead hash a whole table per statement (it did: the inbox and the log, 4 and 11 ms a
 * statement against 0.1 and 0.7 ms, on a log of 12,000 events), a cost that grows with the table.
 */

/** True for the questions whose (1-based) place a shared statement returned. */
function answers(count: number, rows: Array<{ n: string }>): boolean[] {
  const yes = new Set(rows.map((row) => Number(row.n) - 1));
  return Array.from({ length: count }, (_, i) => yes.has(i));
}

/** The arguments of an inbox row's write: key, then the outcome (see Inbox). */
export type OutcomeArgs = [
  subscriber: string,
  eventId: string,
  seq: number,
  streamId: string,
  status: DeliveryStatus,
  attempts: number,
  nextAttemptAt: string | null,
  lastError: string | null,
  updatedAt: string,
];

const OUTCOME_COLUMNS = [
  ['subscriber', 'text'],
  ['event_id', 'text'],
  ['seq', 'bigint'],
  ['stream_id', 'text'],
  ['status', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_at', 'text'],
  ['last_error', 'text'],
  ['updated_at', 'text'],
] as const;

/**
 * PostgreSQL: the DONE rows written by the units of a group (many messages handled at once) in
 * one upsert, with the same rule as `one` (a final row is never changed), each caller told
 * whether its row was written. Two calls for one row (a duplicate message in the same group) go
 * in successive statements: an upsert may not touch a row twice.
 */
export function sharedDone(one: Statement<OutcomeArgs>): SharedWrite<OutcomeArgs> {
  const names = OUTCOME_COLUMNS.map(([name]) => name).join(', ');
  const text = `INSERT INTO deliveries (${names})
    SELECT ${names}
      FROM unnest(${OUTCOME_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
           WITH ORDINALITY AS v(${names}, n)
     ORDER BY n
    ON CONFLICT (subscriber, event_id) DO UPDATE
       SET status = excluded.status, attempts = excluded.attempts,
           next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at
     WHERE deliveries.status NOT IN ('DONE', 'DEAD')
    RETURNING subscriber, event_id`;
  return new SharedWrite(one, async (runner, calls) => {
    const applied: number[] = [];
    let pending = calls.map((_, i) => i);
    while (pending.length > 0) {
      const keys = new Map<string, number>();
      const later: number[] = [];
      for (const i of pending) {
        const key = `${calls[i][0]}\u0000${calls[i][1]}`;
        if (keys.has(key)) later.push(i);
        else keys.set(key, i);
      }
      const round = [...keys.values()];
      const { rows } = await runner.runSql<{ subscriber: string; event_id: string }>(
        text,
        OUTCOME_COLUMNS.map((_, column) => round.map((i) => calls[i][column])),
      );
      for (const row of rows) applied.push(keys.get(`${row.subscriber}\u0000${row.event_id}`)!);
      pending = later;
    }
    return applied;
  });
}
