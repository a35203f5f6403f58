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
