// Where the machine's CPU time went during a measurement: the bench itself (load generator),
// the measured application, the database and broker servers, and everything else. Other work on
// the machine (another test run, a build) takes cores from the measurement and shows here.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICK_SECONDS = 0.01; // USER_HZ is 100 on Linux

/** CPU seconds of every process now, by pid, with its command name. */
function processTimes() {
  const times = new Map();
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return times;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const command = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
      const seconds = (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS;
      times.set(Number(pid), { command, seconds });
    } catch {
      // exited meanwhile
    }
  }
  return times;
}

/** Busy CPU seconds of the whole machine, all cores together. */
function machineBusySeconds() {
  let ms = 0;
  for (const { times } of cpus()) ms += times.user + times.nice + times.sys + times.irq;
  return ms / 1000;
}

/**
 * Which processes serve the measured application: processes named in `commands`, except the
 * pids in `exclude` (such as PostgreSQL backends of other databases).
 * @typedef {{ commands: Set<string>, exclude: Set<number> }} Servers
 */

/** The server processes of RabbitMQ (Erlang VM and its helpers). */
export const RABBITMQ_COMMANDS = ['beam.smp', 'erl_child_setup', 'epmd', 'inet_gethost'];

/**
 * Starts a window; `end()` returns, in cores (CPU seconds per second), what each group used
 * meanwhile: the bench, the measured application (`appPids()`, which must still run), its
 * servers (`servers()`), and every other process. A process that exited within the window counts
 * as other.
 * @param {() => number[]} appPids
 * @param {() => Promise<Servers>} [servers]
 */
export function cpuWindow(appPids, servers) {
  const started = performance.now();
  const busy = machineBusySeconds();
  const before = processTimes();
  return {
    async end() {
      const { commands, exclude } = (await servers?.()) ?? {
        commands: new Set(),
        exclude: new Set(),
      };
      const seconds = (performance.now() - started) / 1000;
      const after = processTimes();
      const app = new Set(appPids());
      const used = { bench: 0, app: 0, servers: 0 };
      for (const [pid, { command, seconds: now }] of after) {
        const delta = now - (before.get(pid)?.seconds ?? 0);
        if (pid === process.pid) used.bench += delta;
        else if (app.has(pid)) used.app += delta;
        else if (commands.has(command) && !exclude.has(pid)) used.servers += delta;
      }
      const total = machineBusySeconds() - busy;
      const cores = (value) => Math.round((value / seconds) * 100) / 100;
      return {
        seconds: Math.round(seconds * 10) / 10,
        cores: cpus().length,
        busy: cores(total),
        bench: cores(used.bench),
        app: cores(used.app),
        servers: cores(used.servers),
        other: cores(Math.max(0, total - used.bench - used.app - used.servers)),
      };
    },
  };
}
