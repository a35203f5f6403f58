import { Logger } from '@nestjs/common';

/**
 * Crash points, for the crash test only. Where code calls `crashPoint('name')` and CRASH_POINTS
 * names it, the process kills itself with SIGKILL (no cleanup, like a power cut of the process)
 * with probability CRASH_PROBABILITY. Off unless configured.
 */
export type CrashPointName =
  | 'tx-before-commit'
  | 'tx-after-commit'
  | 'delivery-before-record'
  | 'payment-after-charge'
  | 'notification-after-send';

let enabled = new Set<string>();
let probability = 0;

export function configureCrashPoints(names: string, chance: number): void {
  enabled = new Set(names.split(',').filter(Boolean));
  probability = chance;
  if (enabled.size > 0 && probability > 0) {
    new Logger('CrashPoints').warn(`Crash points on (${[...enabled].join(', ')}), p=${chance}`);
  }
}

export function crashPoint(name: CrashPointName): void {
  if (probability > 0 && enabled.has(name) && Math.random() < probability) {
    process.kill(process.pid, 'SIGKILL');
  }
}
