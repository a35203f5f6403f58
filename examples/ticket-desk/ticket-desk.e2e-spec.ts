import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MessagingRuntime } from '../../src/durable-cqrs/index.js';
import { eventually, removeTempDatabases, tempDatabaseUrl } from '../../test/create-test-app.js';
import { TicketDeskModule } from './ticket-desk.module.js';
import { MailServer, OpenTicket } from './tickets.js';

/** Reads counts from the desk's database as an outside observer (its own connection). */
function observer(url: string): { count(query: string): Promise<number>; close(): Promise<void> } {
  if (url.startsWith('sqlite:')) {
    let db: Database.Database | undefined;
    return {
      count(query) {
        db ??= new Database(url.slice('sqlite:'.length), { readonly: true });
        return Promise.resolve(Number((db.prepare(query).get() as { n: number }).n));
      },
      close() {
        db?.close();
        return Promise.resolve();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  const connected = client.connect();
  return {
    async count(query) {
      await connected;
      return Number((await client.query<{ n: string }>(query)).rows[0].n);
    },
    close: () => client.end(),
  };
}

// On a SQLite file of its own, or, with TEST_DATABASE_URL (npm run test:pg), on a PostgreSQL
// database of its own; delivery in-process either way.
describe('the ticket desk, an application of its own on the durable runtime', () => {
  let url: string;
  let app: INestApplicationContext | undefined;
  let reader: ReturnType<typeof observer>;

  beforeAll(async () => {
    url = await tempDatabaseUrl();
    reader = observer(url);
  });

  afterAll(async () => {
    await app?.close();
    await reader.close();
    await removeTempDatabases();
  });

  /** Starts the desk on the test's database; retries come due quickly. */
  async function start(): Promise<INestApplicationContext> {
    return NestFactory.createApplicationContext(
      TicketDeskModule.forRoot({ databaseUrl: url, retryBaseDelayMs: 200 }),
      { logger: false },
    );
  }

  /** What the database holds: tickets by status, acknowledgements per ticket, events by type. */
  async function stored() {
    const count = (query: string) => reader.count(query);
    return {
      triaged: await count(`SELECT count(*) AS n FROM tickets WHERE status = 'TRIAGED'`),
      acknowledged: await count('SELECT count(DISTINCT ticket_id) AS n FROM acknowledgements'),
      acknowledgements: await count('SELECT count(*) AS n FROM acknowledgements'),
      triagedEvents: await count(
        `SELECT count(*) AS n FROM event_log WHERE type = 'TicketTriaged'`,
      ),
      openedEvents: await count(`SELECT count(*) AS n FROM event_log WHERE type = 'TicketOpened'`),
    };
  }

  it('is closed in the middle of its workflow, reopened on the same database, and does each effect once', async () => {
    app = await start();
    // The mail server is down: every ticket is opened and triaged, none acknowledged (the
    // handler's deliveries wait for their retries).
    app.get(MailServer).up = false;
    const bus = app.get(CommandBus);
    const open = (n: number) => bus.execute(new OpenTicket(`t-${n}`, `Ticket ${n}`, n % 3 === 0));
    await Promise.all(Array.from({ length: 30 }, (_, n) => open(n)));
    const held = await eventually(stored, (s) => s.triaged === 30, {
      what: 'the first tickets to be triaged',
    });
    expect(held).toMatchObject({ acknowledgements: 0, triagedEvents: 30, openedEvents: 30 });

    // Ten more are opened and the desk closes at once: some of them are not triaged yet.
    await Promise.all(Array.from({ length: 10 }, (_, n) => open(30 + n)));
    await app.close();
    app = undefined;
    expect(await stored()).toMatchObject({ acknowledgements: 0, openedEvents: 40 });

    // Reopened, with the mail server up: the workflow goes on from where it was.
    app = await start();
    const runtime = app.get(MessagingRuntime);
    const done = await eventually(
      async () => ({ ...(await stored()), waiting: runtime.waiting }),
      (s) => s.acknowledged === 40 && s.waiting === 0,
      { what: 'every ticket to be acknowledged' },
    );
    expect(done).toEqual({
      triaged: 40,
      acknowledged: 40,
      // One acknowledgement per ticket, one triage per ticket: nothing was done twice.
      acknowledgements: 40,
      triagedEvents: 40,
      openedEvents: 40,
      waiting: 0,
    });
  });
});
