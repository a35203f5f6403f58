import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes drawn 4 KiB at a time: one call to the random source for 256 ids, not one each. */
const pool = new Uint8Array(4096);
let offset = pool.length;

/**
 * A new id for a stored row (an aggregate, an event, a dead letter): a UUID version 7,
 * which starts with the time. Rows made one after the other get neighbouring keys, so an insert
 * touches the last pages of each index instead of a random page: far fewer pages to write at
 * every commit. The rest is random (74 bits, from the system's cryptographic source), so ids stay
 * unguessable.
 */
export function newId(): string {
  return v7({ random: pooledRandom(16) });
}

/**
 * `size` (at most 16) random bytes from the pool: a call to the system's random source costs a
 * system call, which is expensive here, and ids and trace ids are wanted for every request.
 */
export function pooledRandom(size: number): Uint8Array {
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + size);
  offset += size;
  return random;
}
