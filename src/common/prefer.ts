/** Longest wait a client may ask for with `Prefer: wait=N`, in seconds. */
export const MAX_PREFERRED_WAIT_SECONDS = 30;

/**
 * The `wait` preference of a Prefer header (RFC 7240), in seconds: an integer from 1, capped at
 * MAX_PREFERRED_WAIT_SECONDS; undefined when absent or malformed (a preference that cannot be
 * understood is ignored, as the RFC asks). Several Prefer headers arrive joined by commas.
 */
export function preferredWait(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const preference of header.split(',')) {
    const [token] = preference.split(';');
    const match = /^\s*wait\s*=\s*(?:"(\d+)"|(\d+))\s*$/i.exec(token);
    if (!match) continue;
    const seconds = Number(match[1] ?? match[2]);
    if (seconds < 1) return undefined;
    return Math.min(seconds, MAX_PREFERRED_WAIT_SECONDS);
  }
  return undefined;
}
