import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes drawn 4 KiB at a time: one call to the random source for 256 ids, not one each. */
const pool = new Uint8Array(4096);
let offset = pool.length;

/**
 * A new id for a stored row (order, event, payment, notification, dead letter): a UUID version 7,
 * which starts with the time. Rows made one after the other get neighbouring keys, so an insert
 * touches the last pages of each index instead of a random page: far fewer pages to write at
 * every commit. The rest is random (74 bits, from the system's cryptographic source), so ids stay
 * unguessable.
 */
export function newId(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  return v7({ random });
}
