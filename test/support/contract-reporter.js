import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long the run may go on after its last test before it counts as hung. */
const EXIT_WAIT_MS = 15_000;

/**
 * Totals the answers the test helper checked against the OpenAPI document: each test file adds
 * its count to a file named by CONTRACT_COUNT_FILE (the tests run in this process, --runInBand),
 * and the total is printed at the end of the run.
 */
export default class ContractReporter {
  constructor() {
    this.file = join(mkdtempSync(join(tmpdir(), 'order-service-contract-')), 'validated.txt');
    process.env.CONTRACT_COUNT_FILE = this.file;
  }

  onRunComplete() {
    this.watchExit();
    let lines = [];
    try {
      lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    } catch {
      return;
    }
    const total = lines.reduce((sum, line) => sum + Number(line.split(' ')[0]), 0);
    process.stdout.write(
      `\nResponses validated against the OpenAPI document: ${total} (in ${lines.length} test files)\n\n`,
    );
  }

  /**
   * The service must let its process end once every app is closed. A handle it leaves open (a
   * timer armed again after shutdown, a socket) would keep Jest waiting for ever: after
   * EXIT_WAIT_MS the run fails instead, naming what is still open. The timer is unref'd, so a
   * clean run ends without waiting for it.
   */
  watchExit() {
    setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
      process.stderr.write(
        `\nThe test process is still running ${EXIT_WAIT_MS / 1000} s after its last test; open: ${open.join(', ')}\n`,
      );
      process.exit(1);
    }, EXIT_WAIT_MS).unref();
  }
}
