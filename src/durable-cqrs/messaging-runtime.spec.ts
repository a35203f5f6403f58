import { testOptions } from './runtime-options.fixture.js';
import { RuntimeMetrics } from './runtime-metrics.js';
import type { EventLogLag } from './event-log-lag.js';
import type { EventTransport } from './event-transport.js';
import { MessagingRuntime } from './messaging-runtime.js';
import type { UnitOfWork } from './unit-of-work.js';

describe('MessagingRuntime.state (what readiness reports)', () => {
  function runtimeWith(transport: Partial<EventTransport>): MessagingRuntime {
    return new MessagingRuntime(
      transport as EventTransport,
      testOptions(),
      { stats: { commits: 0, units: 0, waiting: 0 } } as UnitOfWork,
      {} as EventLogLag,
      new RuntimeMetrics(),
    );
  }

  it('is starting until the transport has started, then running, then draining once closing', async () => {
    let started: () => void = () => undefined;
    const runtime = runtimeWith({
      start: () => new Promise<void>((resolve) => (started = resolve)),
    });
    expect(runtime.state).toBe('starting');
    const starting = runtime.start();
    expect(runtime.state).toBe('starting');
    started();
    await starting;
    expect(runtime.state).toBe('running');
    runtime.onModuleDestroy();
    expect(runtime.state).toBe('draining');
  });

  it('stays draining when closing began before the start finished', async () => {
    let started: () => void = () => undefined;
    const runtime = runtimeWith({
      start: () => new Promise<void>((resolve) => (started = resolve)),
    });
    const starting = runtime.start();
    runtime.onModuleDestroy();
    started();
    await starting;
    expect(runtime.state).toBe('draining');
  });

  it('does not become running when the start fails', async () => {
    const runtime = runtimeWith({ start: () => Promise.reject(new Error('no broker')) });
    await expect(runtime.start()).rejects.toThrow('no broker');
    expect(runtime.state).toBe('starting');
  });
});
