import { seededFraction } from './seeded-random.js';

describe('seededFraction', () => {
  it('repeats for the same seed and key and differs across seeds', () => {
    expect(seededFraction('s', 'a')).toBe(seededFraction('s', 'a'));
    expect(seededFraction('s', 'a')).not.toBe(seededFraction('t', 'a'));
  });

  it('spreads evenly enough that a rate of 0.1 declines about a tenth', () => {
    let below = 0;
    for (let i = 0; i < 10_000; i++) if (seededFraction('seed', String(i)) < 0.1) below++;
    expect(below).toBeGreaterThan(900);
    expect(below).toBeLessThan(1100);
  });
});
