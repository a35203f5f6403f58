import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** How long the run may go on after its last test before it counts as hung. */
const EXIT_WAIT_MS = 15_000;

/**
 * What a run reports besides the tests (the tests run in this process, --runInBand):
 * - the answers the test helper checked against the OpenAPI document: each test file adds its
 *   count to the file CONTRACT_COUNT_FILE names, totalled at the end;
 * - the service's log lines: test applications write them (level error and above, from handlers
 *   that fail on purpose) to a file per test file in TEST_LOG_DIR instead of the output; a test
 *   file that fails gets its lines printed after it, and the end of the run says how many there
 *   were, in one line.
 */
export default class RunReporter {
  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'order-service-run-'));
    this.file = join(dir, 'validated.txt');
    this.logDir = join(dir, 'logs');
    process.env.CONTRACT_COUNT_FILE = this.file;
    process.env.TEST_LOG_DIR = this.logDir;
  }

  onTestResult(test, result) {
    if (result.numFailingTests === 0 && !result.testExecError) return;
    const log = join(this.logDir, `${basename(test.path)}.log`);
    if (!existsSync(log)) return;
    process.stderr.write(
      `\nThe service's log lines during ${basename(test.path)}:\n${readFileSync(log, 'utf8')}\n`,
    );
  }

  onRunComplete() {
    this.watchExit();
    this.reportValidated();
    this.reportLogLines();
  }

  reportValidated() {
    if (!existsSync(this.file)) return;
    const lines = readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    const total = lines.reduce((sum, line) => sum + Number(line.split(' ')[0]), 0);
    process.stdout.write(
      `\nResponses validated against the OpenAPI document: ${total} (in ${lines.length} test files)\n`,
    );
  }

  reportLogLines() {
    if (!existsSync(this.logDir)) return;
    const files = readdirSync(this.logDir);
    const lines = files.reduce(
      (sum, file) =>
        sum + readFileSync(join(this.logDir, file), 'utf8').split('\n').filter(Boolean).length,
      0,
    );
    process.stdout.write(
      `\nService log lines kept out of the output: ${lines} from ${files.length} test files ` +
        `(errors of handlers that fail on purpose; a failing test file prints its own), in ${this.logDir}\n\n`,
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
