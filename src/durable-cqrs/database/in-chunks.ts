/**
 * Keys per `IN (...)` list or multi-row statement: far below SQLite's limit of 32,766 variables
 * and PostgreSQL's of 65,535 parameters, whatever the number of keys a caller has.
 */
export const KEYS_PER_STATEMENT = 1000;

/** The items in slices of at most `size`, in order. */
export function* inChunks<T>(items: readonly T[], size = KEYS_PER_STATEMENT): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
