import { createHash } from 'node:crypto';

/**
 * A repeatable random fraction in [0, 1) for a seed and a key: the same seed and key always give
 * the same number, whatever else runs at the same time. The simulators use it so that runs repeat.
 */
export function seededFraction(seed: string, ...key: string[]): number {
  const digest = createHash('sha256')
    .update([seed, ...key].join('\u0000'))
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
