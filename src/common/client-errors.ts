import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ProblemDetails } from './problem.js';

/** Requests Node's HTTP parser refuses before any route sees them, and what it says of each. */
const REFUSALS: Record<string, { status: number; title: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    title: 'Request Header Fields Too Large',
    detail: 'The request line and headers together are larger than the server accepts (16 KiB).',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    title: 'Content Too Large',
    detail: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request Timeout',
    detail: 'The request was not received in time.',
  },
};

const MALFORMED = {
  status: 400,
  title: 'Bad Request',
  detail: 'The request is not valid HTTP/1.1.',
};

/**
 * Answers the requests Node cannot parse (too-large headers, malformed request lines) with
 * problem+json, like every other error of the API, instead of Node's bare status line. The
 * connection is closed afterwards, as Node does.
 */
export function answerUnparsableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const problem: ProblemDetails = { type: 'about:blank', ...refusal };
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${refusal.status} ${refusal.title}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
