import type { Channel, ConsumeMessage } from 'amqplib';
import { ChannelAcks } from './channel-acks.js';

/** A consumer channel that records the acks it is asked to send. */
function recordingChannel() {
  const sent: Array<{ tag: number; multiple: boolean }> = [];
  let closed = false;
  const channel = {
    ack(msg: ConsumeMessage, allUpTo = false) {
      if (closed) throw new Error('Channel closed');
      sent.push({ tag: msg.fields.deliveryTag, multiple: allUpTo });
    },
  } as unknown as Channel;
  return { channel, sent, close: () => (closed = true) };
}

const message = (tag: number) => ({ fields: { deliveryTag: tag } }) as unknown as ConsumeMessage;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ChannelAcks: the acks of a consumer channel, once per turn', () => {
  it('acks the messages handled at the same moment in one ack that covers every tag up to the last', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const [m1, m2, m3] = [1, 2, 3].map(message);
    [m1, m2, m3].forEach((m) => acks.received(m));
    acks.ack(m2);
    acks.ack(m1);
    acks.ack(m3);
    expect(sent).toEqual([]); // nothing before the end of the turn
    await nextTurn();
    expect(sent).toEqual([{ tag: 3, multiple: true }]);
  });

  it('acks a message behind one still under way on its own, and the slow one when it is done', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const [m1, m2, m3, m4] = [1, 2, 3, 4].map(message);
    [m1, m2, m3, m4].forEach((m) => acks.received(m));
    acks.ack(m2);
    acks.ack(m3);
    await nextTurn();
    // An ack with `multiple` up to 3 would ack message 1, whose work has not committed.
    expect(sent).toEqual([
      { tag: 2, multiple: false },
      { tag: 3, multiple: false },
    ]);
    acks.ack(m1);
    acks.ack(m4);
    await nextTurn();
    // 2 and 3 are acked already: one ack up to 4 covers exactly 1 and 4.
    expect(sent.slice(2)).toEqual([{ tag: 4, multiple: true }]);
  });

  it('lets a given-back message out of the run, and never covers one that is not handled', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const [m1, m2, m3, m4, m5] = [1, 2, 3, 4, 5].map(message);
    [m1, m2, m3, m4, m5].forEach((m) => acks.received(m));
    acks.forget(m1); // nacked: RabbitMQ has it back
    acks.ack(m2);
    acks.ack(m3);
    acks.ack(m5); // m4 was left unhandled (the transport stopping): it must stay unacked
    acks.flush(); // what stop() does before the channels close: no waiting for the turn
    expect(sent).toEqual([
      { tag: 3, multiple: true },
      { tag: 5, multiple: false },
    ]);
    await nextTurn();
    expect(sent).toHaveLength(2); // the scheduled flush finds nothing left
  });

  it('drops the acks of a closed channel without failing (RabbitMQ delivers those messages again)', async () => {
    const { channel, sent, close } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const m1 = message(1);
    acks.received(m1);
    acks.ack(m1);
    close();
    await nextTurn();
    expect(sent).toEqual([]);
  });
});
