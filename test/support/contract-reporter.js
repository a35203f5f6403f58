import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
}
