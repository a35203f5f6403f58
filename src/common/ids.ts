import { v7 } from 'uuid';

/**
 * A new id for a stored row (order, event, payment, notification, dead letter): a UUID version 7,
 * which starts with the time. Rows made one after the other get neighbouring keys, so an insert
 * touches the last pages of each index instead of a random page: far fewer pages to write at
 * every commit. The rest is random (74 bits), so ids stay unguessable.
 */
export function newId(): string {
  return v7();
}
