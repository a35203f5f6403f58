import { isConnectionError } from './connection-errors.js';

describe('isConnectionError', () => {
  it('recognises a lost or refused database connection', () => {
    expect(
      isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(
      isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' })),
    ).toBe(true);
    expect(isConnectionError(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('leaves errors of the work itself alone', () => {
    expect(isConnectionError(new Error('poison'))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(
      false,
    );
    expect(isConnectionError('a string')).toBe(false);
  });
});
