// Small helpers the test and benchmark scripts share.
import { connect, createServer } from 'node:net';
import pg from 'pg';

/** A TCP port free on 127.0.0.1 right now, other than those in `taken`. */
export async function freePort(taken = []) {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: free } = server.address();
        server.close(() => resolve(free));
      });
    });
    if (!taken.includes(port)) return port;
  }
}

/** Runs `work` with a PostgreSQL client connected to `url`, and closes it afterwards. */
export async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether something accepts TCP connections at host:port (within `timeoutMs`). */
export function reachable(host, port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
