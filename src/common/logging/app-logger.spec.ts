import { AppLogger } from './app-logger.js';
import { prettyLine } from './pretty-destination.js';
import { messageContext } from '../../durable-cqrs/index.js';

function capture(level: 'debug' | 'log' | 'warn' | 'error') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new AppLogger({
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe('AppLogger', () => {
  it("reads Nest's context and stack parameters", () => {
    const { logger, lines } = capture('log');
    logger.log('hello', 'Greeter');
    logger.error('failed', 'Error: boom\n    at f (file.js:1:2)', 'Worker');
    logger.error('failed without stack', undefined, 'Worker');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', context: 'Greeter', msg: 'hello' }),
      expect.objectContaining({
        level: 'error',
        context: 'Worker',
        stack: expect.stringContaining('boom') as unknown,
      }),
      expect.objectContaining({ level: 'error', context: 'Worker', msg: 'failed without stack' }),
    ]);
  });

  it('writes the correlation and trace of the code it runs for', () => {
    const { logger, lines } = capture('log');
    messageContext.run(
      {
        correlationId: 'c-1',
        causationId: null,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      () => logger.log('inside', 'Ctx'),
    );
    expect(lines[0]).toMatchObject({
      correlationId: 'c-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('drops lines under LOG_LEVEL and redacts secrets passed by mistake', () => {
    const { logger, lines } = capture('warn');
    logger.log('not written', 'Ctx');
    logger.debug('not written', 'Ctx');
    expect(logger.isEnabled('log')).toBe(false);
    logger.write('warn', 'Ctx', { headers: { authorization: 'Bearer abc' }, token: 'abc' }, 'x');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain('abc');
  });

  it('turns a line into one human line for development', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-01-01T10:11:12.345Z',
      pid: 1,
      context: 'HTTP',
      msg: 'request',
      status: 200,
    });
    expect(prettyLine(line)).toBe('10:11:12.345 INFO  [HTTP] request status=200\n');
  });
});
