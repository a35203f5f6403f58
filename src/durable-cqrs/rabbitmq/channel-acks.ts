import type { Channel, ConsumeMessage } from 'amqplib';
import { crashPoint } from '../crash-points.js';

/**
 * The acks of one consumer channel, sent once per turn of the event loop instead of one frame per
 * message: the messages handled at the same moment (their units share a commit) are acked
 * together. Delivery tags grow on a channel, so the run of handled messages at the head of what
 * the channel holds unacked goes in ONE ack with `multiple` (every tag up to the last); a handled
 * message behind one still under way (a slow payment call, say) is acked on its own, so a slow
 * message holds nothing back. A message is acked only after its work has committed, as before:
 * what a lost channel or a crash leaves unacked is delivered again and dropped by the inbox.
 */
export class ChannelAcks {
  /** Tags received and neither acked nor given back, in the order they came (ascending). */
  private readonly unacked = new Set<number>();
  /** Handled messages waiting for the next flush. */
  private readonly handled = new Map<number, ConsumeMessage>();
  private scheduled = false;

  constructor(private readonly channel: Channel) {}

  /** A message arrived (called in arrival order, before it is handled). */
  received(msg: ConsumeMessage): void {
    this.unacked.add(msg.fields.deliveryTag);
  }

  /** The message's work has committed: ack it with the others of this moment. */
  ack(msg: ConsumeMessage): void {
    this.handled.set(msg.fields.deliveryTag, msg);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** The message was given back (nack) or will never be acked here: it no longer counts. */
  forget(msg: ConsumeMessage): void {
    this.unacked.delete(msg.fields.deliveryTag);
    this.handled.delete(msg.fields.deliveryTag);
  }

  /** Sends the acks waiting now (also when the transport stops, before its channels close). */
  flush(): void {
    this.scheduled = false;
    if (this.handled.size === 0) return;
    // Their work has committed; a crash now leaves them to be delivered again (the crash test).
    crashPoint('broker-before-ack');
    let head: ConsumeMessage | undefined;
    let covered = 0;
    for (const tag of this.unacked) {
      const msg = this.handled.get(tag);
      if (!msg) break;
      head = msg;
      covered++;
      this.unacked.delete(tag);
      this.handled.delete(tag);
    }
    const alone = [...this.handled.values()];
    this.handled.clear();
    for (const msg of alone) this.unacked.delete(msg.fields.deliveryTag);
    try {
      if (head) this.channel.ack(head, covered > 1);
      for (const msg of alone) this.channel.ack(msg);
    } catch {
      // The channel closed: RabbitMQ delivers these messages again, and the inbox drops them.
    }
  }
}
