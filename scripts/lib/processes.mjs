// oxlint-disable no-console -- the exit handlers report why a test stopped.
/**
 * What the test and benchmark scripts share to run the built service as child processes: free
 * ports, its environment, a stable copy of the build, starting, signalling and stopping it, its
 * readiness, its logs, and the handlers that kill it when the script ends.
 */
import { SCRIPT_JWT_SECRET } from './auth.mjs';
import { spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { send } from './http.mjs';

/** The checkout, and the build `nest build` writes in it. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = join(ROOT, 'dist');
/** The build in the checkout itself, for ServiceProcess.start (snapshotBuild makes a copy). */
export const CHECKOUT_BUILD = { main: join(BUILD, 'main.js'), cwd: ROOT };

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

/** Every variable the service reads: a test sets all of them, so none leaks in from outside. */
export const SERVICE_VARS = [
  'PORT',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'LOG_LEVEL',
  'AMQP_URL',
  'AMQP_PREFIX',
  'AMQP_PREFETCH',
  'SQLITE_SYNCHRONOUS',
  'PAYMENT_LATENCY_MS',
  'PAYMENT_FAILURE_RATE',
  'PAYMENT_TRANSIENT_FAILURE_RATE',
  'PAYMENT_HANG_RATE',
  'PAYMENT_TIMEOUT_MS',
  'ORDER_STEP_TIMEOUT_MS',
  'NOTIFICATION_LATENCY_MS',
  'RANDOM_SEED',
  'RETRY_MAX_ATTEMPTS',
  'RETRY_BASE_DELAY_MS',
  'DISPATCH_CONCURRENCY',
  'DISPATCH_POLL_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'CRASH_POINTS',
  'CRASH_PROBABILITY',
  'BACKLOG_LIMIT',
  'JWT_SECRET',
  'JWT_SECRET_FILE',
  'JWT_PUBLIC_KEY_FILE',
  'JWT_JWKS_FILE',
  'JWT_ALGORITHM',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_CLOCK_SKEW_SECONDS',
  'NODE_ENV',
  'THROTTLE_LIMIT',
  'THROTTLE_TTL_MS',
];

/**
 * The environment of a service: the script's own, with every variable the service reads set to
 * empty (its default), so nothing leaks in from the environment the script runs in; access
 * control on, with the run's secret (scripts/lib/auth.mjs), and a rate limit its clients do not
 * reach (they are one admin sending as fast as they can); then `settings`.
 */
export function serviceEnv(settings) {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const name of SERVICE_VARS) env[name] = '';
  return Object.assign(
    env,
    { JWT_SECRET: SCRIPT_JWT_SECRET, THROTTLE_LIMIT: '1000000000' },
    settings,
  );
}

/** Names, sizes and times of every file in dist/; null while dist/main.js is missing. */
function buildSignature() {
  if (!existsSync(join(BUILD, 'main.js'))) return null;
  try {
    return readdirSync(BUILD, { recursive: true })
      .map(String)
      .sort()
      .map((name) => {
        const stat = statSync(join(BUILD, name));
        return `${name}:${stat.size}:${stat.mtimeMs}`;
      })
      .join('\n');
  } catch {
    return null; // a file vanished while listing: a build is under way
  }
}

/**
 * Copies dist/ to `appDir` (with node_modules linked), so that a rebuild of dist/ by someone else
 * during the run cannot pull the build from under the service. It copies once dist/ has stopped
 * changing (another `nest build` in the same checkout first deletes dist/, then writes it again),
 * and checks that it did not change during the copy. Returns { main, cwd } of the copy, for
 * ServiceProcess.start.
 */
export async function snapshotBuild(appDir) {
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(appDir, 'node_modules'), 'dir');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const before = buildSignature();
    await delay(1000);
    if (before === null || buildSignature() !== before) continue;
    rmSync(join(appDir, 'dist'), { recursive: true, force: true });
    cpSync(BUILD, join(appDir, 'dist'), { recursive: true });
    if (buildSignature() === before) return { main: join(appDir, 'dist', 'main.js'), cwd: appDir };
  }
  throw new Error(
    `could not take a stable copy of ${BUILD} within 60 s (missing, or rebuilt all the time); ` +
      'run `nest build` first',
  );
}

/** The lines of a service log at `path` logged at `level` (WARN, ERROR). */
export function logLines(path, level) {
  if (!existsSync(path)) return [];
  const names = LEVEL_NAMES[level];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return line.includes(` ${level} `);
      try {
        return names.includes(JSON.parse(line).level);
      } catch {
        return false; // the last line, cut short by a kill
      }
    });
}

/** The service writes JSON lines (pino); their level names, by the names the scripts use. */
const LEVEL_NAMES = { WARN: ['warn'], ERROR: ['error', 'fatal'] };

/** One process of the built service, as a test script starts, watches and stops it. */
export class ServiceProcess {
  /** the child process, once started */
  child;
  /** the first signal the script sent it, if any */
  sentSignal;
  /** once it exited: { code, signal }, or { code: null, signal: null, error } if it never ran */
  exit;
  /** a promise of exit */
  exited;

  /** `name` for messages, `port` to listen on, `logPath` for its output. */
  constructor({ name, port, logPath }) {
    this.name = name;
    this.port = port;
    this.logPath = logPath;
    this.base = `http://127.0.0.1:${port}`;
  }

  /**
   * Starts `main` (the service's main.js, see snapshotBuild and CHECKOUT_BUILD) in `cwd` with
   * `env`, its output appended to the log; again after it exited, for a restart.
   * `onExit(exit)` runs once it is gone, before `exited` resolves.
   */
  start({ main, cwd, env, onExit }) {
    const fd = openSync(this.logPath, 'a');
    const child = spawn(process.execPath, [main], { cwd, env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.sentSignal = undefined;
    this.exit = undefined;
    this.exited = new Promise((resolve) => {
      const gone = (exit) => {
        this.exit = exit;
        onExit?.(exit);
        resolve(exit);
      };
      child.once('exit', (code, signal) => gone({ code, signal }));
      child.once('error', (error) => gone({ code: null, signal: null, error }));
    });
    return this;
  }

  /** Sends `name` (SIGTERM, SIGKILL), unless it has exited or never started. */
  signal(name) {
    if (!this.child || this.exit) return;
    this.sentSignal ??= name;
    this.child.kill(name);
  }

  /** SIGKILL if it is running, when the script ends (not recorded as sent by the script). */
  killIfRunning() {
    if (!this.child || this.exit) return;
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The last lines of its log. */
  logTail(lines = 15) {
    if (!existsSync(this.logPath)) return '';
    return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** The lines it logged at `level` (WARN, ERROR). */
  logLines(level) {
    return logLines(this.logPath, level);
  }

  /** How it ended, with its log, for an error message. */
  exitReport() {
    const { code, signal } = this.exit;
    return `(code ${code}, signal ${signal}); log ${this.logPath}:\n${this.logTail()}`;
  }

  /**
   * Polls GET `path` (each try given `requestTimeoutMs`, `intervalMs` apart) until
   * `ready(response)` holds: true then, false if it exited first; throws when it did neither
   * within `timeoutMs`.
   */
  async waitReady({
    timeoutMs,
    intervalMs,
    path = '/inventory',
    ready = (response) => response?.status === 200,
    requestTimeoutMs = 1000,
  }) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exit) return false;
      const response = await send(this.base, 'GET', path, undefined, {
        timeoutMs: requestTimeoutMs,
      });
      if (ready(response)) return true;
      await Promise.race([delay(intervalMs), this.exited]);
    }
    if (this.exit) return false;
    throw new Error(
      `${this.name} did not answer within ${timeoutMs} ms; log ${this.logPath}:\n` + this.logTail(),
    );
  }

  /**
   * Stops it with SIGTERM, and with SIGKILL when it has not exited within `waitMs` (no limit when
   * undefined). Returns what was wrong with how it stopped, or undefined when it exited 0.
   */
  async stop(waitMs) {
    this.signal('SIGTERM');
    const exit = await (waitMs === undefined
      ? this.exited
      : Promise.race([this.exited, delay(waitMs, undefined, { ref: false })]));
    if (!exit) {
      this.signal('SIGKILL');
      await this.exited;
      return `${this.name} did not exit within ${waitMs} ms of SIGTERM`;
    }
    if (exit.code !== 0) {
      return (
        `${this.name}: SIGTERM, exit code ${exit.code}, signal ${exit.signal} (expected 0):\n` +
        this.logTail()
      );
    }
    return undefined;
  }
}

/**
 * When the script ends in any way, it kills the services `running()` returns; on SIGINT or
 * SIGTERM, and on an uncaught error, it also says so (`title` names the test, `where` its files)
 * and exits 1 after `cleanUp()`. Returns the handler of an error, for `main().catch`.
 */
export function exitHandlers({ title, where, running, cleanUp = async () => undefined }) {
  const killChildren = () => {
    for (const service of running()) service.killIfRunning();
  };
  process.on('exit', killChildren);
  for (const name of ['SIGINT', 'SIGTERM']) {
    process.once(name, () => {
      killChildren();
      console.log(`\n${name}: stopped (${where})`);
      void cleanUp().finally(() => process.exit(1));
    });
  }
  const crashed = (error) => {
    killChildren();
    console.log(`\n${title} error: ${error instanceof Error ? error.stack : String(error)}`);
    console.log(`FAIL (${where})`);
    void cleanUp().finally(() => process.exit(1));
  };
  process.on('uncaughtException', crashed);
  process.on('unhandledRejection', crashed);
  return crashed;
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
