import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import Database from 'better-sqlite3';
import { MessagingRuntime } from '../../src/durable-cqrs/index.js';
import { TicketDeskModule } from './ticket-desk.module.js';
import { MailServer, OpenTicket } from './tickets.js';

/** Polls `read` until `done` holds, or fails after the deadline with the last value seen. */
async function eventually<T>(read: () => T, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await delay(20);
  }
}

describe('the ticket desk, an application of its own on the durable runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ticket-desk-'));
  const file = join(dir, 'tickets.db');
  let app: INestApplicationContext | undefined;
  let reader: Database.Database | undefined;

  afterAll(async () => {
    await app?.close();
    reader?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the desk on the test's file; retries come due quickly. */
  async function start(): Promise<INestApplicationContext> {
    return NestFactory.createApplicationContext(
      TicketDeskModule.forRoot({ databaseUrl: `sqlite:${file}`, retryBaseDelayMs: 200 }),
      { logger: false },
    );
  }

  /** What the file holds: tickets by status, acknowledgements per ticket, events by type. */
  function stored() {
    reader ??= new Database(file, { readonly: true });
    const count = (query: string) => Number((reader!.prepare(query).get() as { n: number }).n);
    return {
      triaged: count(`SELECT count(*) AS n FROM tickets WHERE status = 'TRIAGED'`),
      acknowledged: count('SELECT count(DISTINCT ticket_id) AS n FROM acknowledgements'),
      acknowledgements: count('SELECT count(*) AS n FROM acknowledgements'),
      triagedEvents: count(`SELECT count(*) AS n FROM event_log WHERE type = 'TicketTriaged'`),
      openedEvents: count(`SELECT count(*) AS n FROM event_log WHERE type = 'TicketOpened'`),
    };
  }

  it('is closed in the middle of its workflow, reopened on the same file, and does each effect once', async () => {
    app = await start();
    // The mail server is down: every ticket is opened and triaged, none acknowledged (the
    // handler's deliveries wait for their retries).
    app.get(MailServer).up = false;
    const bus = app.get(CommandBus);
    const open = (n: number) => bus.execute(new OpenTicket(`t-${n}`, `Ticket ${n}`, n % 3 === 0));
    await Promise.all(Array.from({ length: 30 }, (_, n) => open(n)));
    const held = await eventually(
      stored,
      (s) => s.triaged === 30,
      'the first tickets to be triaged',
    );
    expect(held).toMatchObject({ acknowledgements: 0, triagedEvents: 30, openedEvents: 30 });

    // Ten more are opened and the desk closes at once: some of them are not triaged yet.
    await Promise.all(Array.from({ length: 10 }, (_, n) => open(30 + n)));
    await app.close();
    app = undefined;
    expect(stored()).toMatchObject({ acknowledgements: 0, openedEvents: 40 });

    // Reopened, with the mail server up: the workflow goes on from where it was.
    app = await start();
    const runtime = app.get(MessagingRuntime);
    const done = await eventually(
      () => ({ ...stored(), waiting: runtime.waiting }),
      (s) => s.acknowledged === 40 && s.waiting === 0,
      'every ticket to be acknowledged',
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
