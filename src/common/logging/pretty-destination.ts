import type { DestinationStream } from 'pino';

/** Fields the human line shows in its own places, or leaves out. */
const SHOWN = new Set(['level', 'time', 'context', 'msg', 'pid', 'hostname', 'stack']);

/**
 * A development view of the JSON lines: `12:00:00.123 INFO  [Context] message key=value …`, one
 * line per entry. Used only when nobody reads the lines but a person (see LOG_FORMAT).
 */
export function prettyDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      out.write(prettyLine(line));
    },
  };
}

export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = text(entry.level ?? '')
    .toUpperCase()
    .padEnd(5);
  const context = entry.context ? ` [${text(entry.context)}]` : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => ` ${key}=${text(value)}`)
    .join('');
  const stack = typeof entry.stack === 'string' ? `\n${entry.stack}` : '';
  return `${time} ${level}${context} ${text(entry.msg ?? '')}${fields}${stack}\n`;
}
