import { preferredWait } from './prefer.js';

describe('preferredWait', () => {
  it('reads wait=N among other preferences, with or without quotes', () => {
    expect(preferredWait('wait=10')).toBe(10);
    expect(preferredWait('respond-async, wait=5')).toBe(5);
    expect(preferredWait('handling=lenient, Wait = "7"')).toBe(7);
    expect(preferredWait('wait=3;foo=bar')).toBe(3);
  });

  it('caps a long wait at 30 seconds', () => {
    expect(preferredWait('wait=31')).toBe(30);
    expect(preferredWait('wait=99999999999999999999')).toBe(30);
  });

  it('ignores what is absent or malformed', () => {
    for (const header of [
      undefined,
      '',
      'respond-async',
      'wait=',
      'wait=0',
      'wait=-1',
      'wait=1.5',
      'wait=abc',
      'wait=1e3',
    ]) {
      expect(preferredWait(header)).toBeUndefined();
    }
  });
});
