import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { eventually } from '../create-test-app.js';
import { mintToken, TEST_JWT_SECRET } from './tokens.js';

/** The built service (`npm test` builds it first), started as `npm start` would. */
export interface BuiltService {
  child: ChildProcess;
  base: string;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
}

/** An admin's Authorization header for the built service's key. */
export const adminHeaders = async (): Promise<Record<string, string>> => ({
  authorization: `Bearer ${await mintToken({ role: 'admin' })}`,
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Runs `dist/main.js` on a free port in this environment (the test process's, with `env` over
 * it; an `undefined` value removes a variable), keeping what it writes.
 */
export async function spawnBuiltService(
  env: Record<string, string | undefined>,
): Promise<BuiltService> {
  const port = await freePort();
  const merged: Record<string, string | undefined> = { ...process.env, PORT: String(port), ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output };
}

/**
 * Starts `dist/main.js` with the test key and these settings, and resolves once it answers an
 * admin's `GET /inventory`.
 */
export async function startBuiltService(
  databaseUrl: string,
  settings: Record<string, string> = {},
): Promise<BuiltService> {
  const service = await spawnBuiltService({
    DATABASE_URL: databaseUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    ...settings,
  });
  const { base } = service;
  await eventually(
    async () =>
      fetch(`${base}/inventory`, { headers: await adminHeaders() }).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200,
    { timeoutMs: 20_000, intervalMs: 50, what: 'the service to answer' },
  );
  return service;
}

/** Sends SIGTERM and waits for the exit: its code and how long it took. */
export async function stopBuiltService(
  service: BuiltService,
): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  if (service.child.exitCode !== null) return { code: service.child.exitCode, ms: 0 };
  const exited = once(service.child, 'exit');
  service.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return { code, ms: Date.now() - started };
}
