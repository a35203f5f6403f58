import { Logger, type ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter } from './problem.filter.js';

/** Runs the filter on one exception and returns what it answered. */
function answer(exception: unknown) {
  const sent: { status?: number; headers: Record<string, string>; body?: string; type?: string } = {
    headers: {},
  };
  const response = {
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return response;
    },
    status(code: number) {
      sent.status = code;
      return response;
    },
    type(value: string) {
      sent.type = value;
      return response;
    },
    send(body: string) {
      sent.body = body;
      return response;
    },
  };
  const host = {
    switchToHttp: () => ({
      getRequest: () => ({ method: 'POST', originalUrl: '/orders' }),
      getResponse: () => response,
    }),
  } as unknown as ArgumentsHost;
  new ProblemDetailsFilter().catch(exception, host);
  return { ...sent, problem: JSON.parse(sent.body ?? 'null') as Record<string, unknown> };
}

describe('ProblemDetailsFilter', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it.each([
    ['the server ended the connection', Object.assign(new Error('terminating'), { code: '57P01' })],
    ['the connection was refused', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })],
    ['the connection broke mid-query', new Error('Connection terminated unexpectedly')],
  ])('answers 503 with Retry-After when %s', (_what, error) => {
    const sent = answer(error);
    expect(sent.status).toBe(503);
    expect(sent.type).toBe('application/problem+json');
    expect(sent.headers['retry-after']).toBe('1');
    expect(sent.problem).toMatchObject({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      instance: '/orders',
    });
  });

  it('answers 500 without Retry-After for any other unexpected error', () => {
    const sent = answer(Object.assign(new Error('duplicate key'), { code: '23505' }));
    expect(sent.status).toBe(500);
    expect(sent.headers['retry-after']).toBeUndefined();
    expect(sent.problem).toMatchObject({ status: 500, detail: 'An unexpected error occurred' });
  });
});
