import { PriorityGate, writerPriority, type WriterPriority } from './writer-priority.js';

/** Queues `order` on a held gate, then releases it turn by turn; the order of the grants. */
async function grants(order: WriterPriority[]): Promise<string[]> {
  const gate = new PriorityGate();
  await gate.lock('background'); // held by someone already
  const granted: string[] = [];
  const waits = order.map((priority, index) =>
    gate.lock(priority).then(() => granted.push(`${priority[0]}${index}`)),
  );
  for (let turn = 0; turn <= order.length; turn++) {
    gate.unlock();
    await Promise.resolve();
  }
  await Promise.all(waits);
  return granted;
}

describe('PriorityGate', () => {
  it('grants at once when free, and again once unlocked', async () => {
    const gate = new PriorityGate();
    await gate.lock('background');
    let second = false;
    const waiting = gate.lock('background').then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    gate.unlock();
    await waiting;
    expect(second).toBe(true);
    gate.unlock();
    await gate.lock('request'); // free again: granted at once
  });

  it('lets requests go ahead of background work that queued first', async () => {
    expect(await grants(['background', 'background', 'request', 'request'])).toEqual([
      'r2',
      'r3',
      'b0',
      'b1',
    ]);
  });

  it('gives background work one turn after every four requests while it waits', async () => {
    const order: WriterPriority[] = ['background', ...Array<WriterPriority>(9).fill('request')];
    expect(await grants(order)).toEqual([
      'r1',
      'r2',
      'r3',
      'r4',
      'b0',
      'r5',
      'r6',
      'r7',
      'r8',
      'r9',
    ]);
  });
});

describe('writerPriority', () => {
  it('is background unless the work runs as a request, also across awaits', async () => {
    expect(writerPriority.get()).toBe('background');
    await writerPriority.run('request', async () => {
      await Promise.resolve();
      expect(writerPriority.get()).toBe('request');
      await writerPriority.run('background', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        expect(writerPriority.get()).toBe('background');
      });
      expect(writerPriority.get()).toBe('request');
    });
  });
});
