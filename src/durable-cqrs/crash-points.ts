import { Logger } from '@nestjs/common';

/**
 * Crash points, for the crash test only. Where code calls `crashPoint('name')` and CRASH_POINTS
 * names it, the process kills itself with SIGKILL (no cleanup, like a power cut of the process)
 * with probability CRASH_PROBABILITY. Off unless configured.
 */
export type CrashPointName =
  | 'tx-before-commit'
  | 'tx-after-commit'
  | 'unit-throws'
  | 'batch-after-commit'
  | 'group-refused'
  | 'delivery-before-record'
  | 'payment-after-charge'
  | 'notification-after-send'
  | 'broker-before-ack';

let enabled = new Set<string>();
let probability = 0;

export function configureCrashPoints(names: string, chance: number): void {
  enabled = new Set(names.split(',').filter(Boolean));
  probability = chance;
  if (enabled.size > 0 && probability > 0) {
    new Logger('CrashPoints').warn(`Crash points on (${[...enabled].join(', ')}), p=${chance}`);
  }
}

/** Faults that throw instead of killing: a unit of work that fails inside a batch of others. */
const THROWING: ReadonlySet<CrashPointName> = new Set(['unit-throws']);

export class InjectedFault extends Error {
  constructor(name: CrashPointName) {
    super(`fault injected at ${name}`);
    this.name = 'InjectedFault';
  }
}

export function crashPoint(name: CrashPointName): void {
  if (probability > 0 && enabled.has(name) && Math.random() < probability) {
    if (THROWING.has(name)) throw new InjectedFault(name);
    process.kill(process.pid, 'SIGKILL');
  }
}
