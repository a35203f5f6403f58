import { execFile } from 'node:child_process';
import amqp from 'amqplib';

/**
 * Deletes the named queues and exchanges of a RabbitMQ broker; one that is not there is skipped.
 * A failed operation closes its channel, so each one gets a channel of its own.
 */
export async function deleteQueuesAndExchanges(amqpUrl, queues, exchanges) {
  const connection = await amqp.connect(amqpUrl);
  connection.on('error', () => undefined);
  try {
    const attempt = async (operation) => {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await operation(channel);
      } catch {
        // not there
      } finally {
        await channel.close().catch(() => undefined);
      }
    };
    for (const name of queues) await attempt((c) => c.deleteQueue(name));
    for (const name of exchanges) await attempt((c) => c.deleteExchange(name));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The service's delay queues (src/durable-cqrs/rabbitmq/amqp-connection.ts), one per backoff step. */
const DELAY_BUCKETS_MS = [50, 250, 1000, 5000, 30000, 120000];

/** Runs rabbitmqctl (on the broker's machine); its output, or an error when it fails or is absent. */
export function rabbitmqctl(...args) {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The broker's queues named `<prefix>.*`, each with its messages (ready and unacked). */
export async function queuesOf(prefix) {
  const out = await rabbitmqctl('list_queues', '-q', '--no-table-headers', 'name', 'messages');
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name]) => name?.startsWith(`${prefix}.`))
    .map(([name, messages]) => ({ name, messages: Number(messages) }));
}

/**
 * Deletes the queues and exchanges of one AMQP_PREFIX: the transport's fixed ones, one queue per
 * subscriber in `subscribers` (the ids the service recorded in its deliveries table), and every
 * other one of the prefix that rabbitmqctl lists. Returns how many rabbitmqctl listed, or -1 when
 * it could not list them (not installed here): then only the known names go.
 */
export async function deleteBrokerObjects(amqpUrl, prefix, subscribers) {
  const queues = new Set([
    `${prefix}.dead-letters`,
    ...DELAY_BUCKETS_MS.map((ms) => `${prefix}.delay.${ms}`),
    ...subscribers.map((s) => `${prefix}.sub.${s}`),
  ]);
  const exchanges = new Set([
    `${prefix}.events`,
    `${prefix}.requeue`,
    ...DELAY_BUCKETS_MS.map((ms) => `${prefix}.delay.${ms}`),
  ]);
  let listed = 0;
  try {
    for (const queue of await queuesOf(prefix)) {
      queues.add(queue.name);
      listed++;
    }
    const out = await rabbitmqctl('list_exchanges', '-q', '--no-table-headers', 'name');
    for (const name of out.split('\n').map((line) => line.trim())) {
      if (!name.startsWith(`${prefix}.`)) continue;
      exchanges.add(name);
      listed++;
    }
  } catch {
    listed = -1;
  }
  await deleteQueuesAndExchanges(amqpUrl, queues, exchanges);
  return listed;
}
