// oxlint-disable no-console -- this module prints the test scripts' reports.
/** What the test scripts share to report: the time since they started, and the summary table. */

/** A function that tells the seconds since `start`, as `[ 12.3 s]`. */
export function stopwatch(start = Date.now()) {
  return () => `[${((Date.now() - start) / 1000).toFixed(1).padStart(5)} s]`;
}

/** Prints `lines` ([name, value]) under "summary", the values from column `width` on. */
export function printSummary(lines, width) {
  console.log('\nsummary');
  for (const [name, value] of lines) console.log(`  ${name.padEnd(width)}${value}`);
}

/** The summary lines of the figures orderDataViolations returns that both tests print. */
export function figureLines(figures) {
  const { byStatus, deliveries } = figures;
  return {
    outcomes: [
      'completed / failed / cancelled',
      `${byStatus.COMPLETED} / ${byStatus.FAILED} / ${byStatus.CANCELLED}`,
    ],
    charges: [
      'charges / refunds / declined',
      `${figures.charges} / ${figures.refunds} / ${figures.declined}`,
    ],
    deliveries: [
      'deliveries retrying / dead',
      `${deliveries.RETRY ?? 0} / ${deliveries.DEAD ?? 0}`,
    ],
  };
}
