/** Log lines of a test app, kept in memory (pass `destination` as createTestApp's `logs`). */
export interface LogLine {
  level: string;
  time: string;
  context?: string;
  msg: string;
  correlationId?: string;
  traceId?: string;
  [field: string]: unknown;
}

/** A pino destination that keeps every line, raw and parsed. */
export function capture() {
  const raw: string[] = [];
  return {
    raw,
    lines: (): LogLine[] => raw.map((line) => JSON.parse(line) as LogLine),
    destination: { write: (line: string) => void raw.push(line) },
  };
}
