/** An error as one line of text: its name and message (what outcomes and log lines keep of it). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
