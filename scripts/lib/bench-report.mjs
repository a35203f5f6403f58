// The benchmark's report: the machine, one markdown table, and the JSON file of the same figures.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** What the figures were measured on. */
export function machine(root) {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  const autocannon = JSON.parse(
    readFileSync(join(root, 'node_modules/autocannon/package.json'), 'utf8'),
  ).version;
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
    autocannon,
    commit: git('rev-parse', '--short', 'HEAD'),
    branch: git('rev-parse', '--abbrev-ref', 'HEAD'),
    dirty: git('status', '--porcelain') ? true : false,
  };
}

const grouped = (value, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** 5426.3 → "5,426"; 35.42 → "35.4"; 1.234 → "1.23"; 7 → "7". */
export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const size = Math.abs(value);
  const digits = size >= 100 ? 0 : size >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** A ratio with two or three significant figures. */
export function formatRatio(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value >= 100) return grouped(value);
  if (value >= 10) return grouped(value, 1);
  if (value >= 1) return grouped(value, 2);
  return value.toPrecision(2);
}

export const ratio = (value, reference) =>
  value === null ||
  value === undefined ||
  reference === null ||
  reference === undefined ||
  !Number.isFinite(value) ||
  !Number.isFinite(reference) ||
  reference === 0
    ? null
    : value / reference;

/** "0", or "12 (503: 10, errors: 2)". */
export function formatFailures(failed, statuses = {}) {
  if (!failed) return '0';
  const parts = Object.entries(statuses)
    .filter(([code]) => !/^2\d\d$/.test(code))
    .map(([code, n]) => `${code}: ${grouped(n)}`);
  return parts.length > 0 ? `${grouped(failed)} (${parts.join(', ')})` : grouped(failed);
}

/**
 * A table row: `value` with its unit, p50/p99 in ms, and the ratio of each to `reference` (a row
 * of the same shape), named by `versus`. A row with only `note` spans the table.
 * @typedef {{ measurement: string, value?: number, unit?: string, p50?: number, p99?: number,
 *   failed?: number, statuses?: Record<string, number>, reference?: object, versus?: string,
 *   note?: string }} Row
 */
export function renderTable(rows) {
  const header = [
    'measurement',
    'figure',
    'ratio',
    'p50 ms',
    'ratio',
    'p99 ms',
    'ratio',
    'not 2xx',
    'ratio to',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((h, i) => (i === 0 || i === 7 || i === 8 ? '---' : '--:')).join('|')}|`,
  ];
  for (const row of rows) {
    if (row.note !== undefined && row.value === undefined) {
      lines.push(`| ${row.measurement} | ${row.note} |${' |'.repeat(header.length - 2)}`);
      continue;
    }
    const ref = row.reference ?? {};
    const cells = [
      row.measurement + (row.note ? ` (${row.note})` : ''),
      row.value === undefined ? '—' : `${formatNumber(row.value)} ${row.unit ?? ''}`.trim(),
      formatRatio(ratio(row.value, ref.value)),
      formatNumber(row.p50),
      formatRatio(ratio(row.p50, ref.p50)),
      formatNumber(row.p99),
      formatRatio(ratio(row.p99, ref.p99)),
      row.failed === undefined ? '' : formatFailures(row.failed, row.statuses),
      row.reference ? (row.versus ?? '') : row.versus === undefined ? '' : row.versus,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Writes bench/results/<timestamp>.json; returns its path. */
export function saveResults(root, startedAt, data) {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
