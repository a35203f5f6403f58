import { childTraceparent, parseTraceparent, traceIdOf } from './trace-context.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  it('reads a valid header', () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
  });

  it.each([
    ['missing', undefined],
    ['uppercase', VALID.toUpperCase()],
    ['version ff', VALID.replace(/^00/, 'ff')],
    ['zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version 00 with more fields', `${VALID}-extra`],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['garbage', 'not a traceparent'],
  ])('refuses a header that is %s', (_what, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('reads the known fields of a later version', () => {
    expect(parseTraceparent(`cc${VALID.slice(2)}-what-comes-next`)?.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  it('gives a child the trace and flags of its parent and a span of its own', () => {
    const child = childTraceparent(VALID);
    expect(parseTraceparent(child)).toMatchObject({
      traceId: traceIdOf(VALID),
      flags: '01',
    });
    expect(child).not.toBe(VALID);
  });

  it('starts a new trace without a parent', () => {
    const root = childTraceparent(undefined);
    expect(parseTraceparent(root)).toBeDefined();
    expect(traceIdOf(root)).not.toBe(traceIdOf(childTraceparent(undefined)));
  });
});
