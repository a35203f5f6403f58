import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createTestApp, type TestApp, type TestAppOptions } from '../create-test-app.js';
import { mintToken } from './tokens.js';

/**
 * A raw HTTP client: requests go out as bytes through Node's http module (or a bare socket), so
 * the server receives exactly what a test writes (supertest would re-encode bodies and fill in
 * headers).
 */

export interface RawRequest {
  method?: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, without Content-Length. */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A kept-alive socket that the server had closed just as it was reused: the app saw nothing. */
class ResetOfReusedSocket extends Error {}

function sendOnce(port: number, agent: http.Agent, request: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { body, chunked = false } = request;
    const headers: Record<string, string> = { ...request.headers };
    if (body !== undefined && !chunked && headers['content-length'] === undefined) {
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    let answered = false;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: request.method ?? (body === undefined ? 'GET' : 'POST'),
        path: request.path,
        headers,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer (413, 415) before reading the whole body, and stop reading it.
      if (answered) return;
      reject(req.reusedSocket && error.code === 'ECONNRESET' ? new ResetOfReusedSocket() : error);
    });
    if (chunked && body !== undefined) req.write(body);
    req.end(chunked ? undefined : body);
  });
}

/**
 * Writes bytes on a fresh connection and reads the answer until the server closes it: for requests
 * that are not valid HTTP, which Node's client would refuse to send.
 */
export function sendBytes(port: number, bytes: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: rest.join('\r\n\r\n') });
    });
  });
}

/** The application on a port of its own, and a client that sends bytes as they are given. */
export interface RawApi {
  t: TestApp;
  port: number;
  send(request: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

export async function startRawApi(options?: TestAppOptions): Promise<RawApi> {
  const t = await createTestApp(options);
  const server = t.app.getHttpServer() as http.Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // Every request is an admin's unless it brings an Authorization header of its own.
  const authorization = `Bearer ${await mintToken({ role: 'admin' })}`;
  const withToken = (request: RawRequest): RawRequest =>
    Object.keys(request.headers ?? {}).some((name) => name.toLowerCase() === 'authorization')
      ? request
      : { ...request, headers: { authorization, ...request.headers } };
  return {
    t,
    port,
    async send(given) {
      const request = withToken(given);
      try {
        return await sendOnce(port, agent, request);
      } catch (error) {
        if (error instanceof ResetOfReusedSocket) return sendOnce(port, agent, request);
        throw error;
      }
    },
    async close() {
      agent.destroy();
      await t.close();
    },
  };
}

/** Status, content type and the start of the body: for a failure message. */
export function describeResponse(response: RawResponse): string {
  const type = response.headers['content-type'] ?? '(no content-type)';
  return `${response.status} ${type} ${response.text.slice(0, 300)}`;
}
