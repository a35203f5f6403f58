/**
 * Money is integer minor units (cents) inside the service and a two-decimal string in JSON
 * ("175.00"). No float ever holds an amount.
 */

/** An amount as the API writes it: up to ten digits, at most two decimals ("20.00"). */
export const DECIMAL_AMOUNT_PATTERN = /^(\d{1,10})(?:\.(\d{1,2}))?$/;

export const CURRENCY = 'USD';

export function isDecimalAmount(value: string): boolean {
  return DECIMAL_AMOUNT_PATTERN.test(value);
}

export function toMinor(value: string): number {
  const match = DECIMAL_AMOUNT_PATTERN.exec(value);
  if (!match) throw new Error(`Not an amount: ${value}`);
  const [, units, fraction = ''] = match;
  return Number(units) * 100 + Number(fraction.padEnd(2, '0'));
}

export function formatMinor(minor: number | bigint): string {
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) {
    throw new Error(`Not an amount: ${minor}`);
  }
  const exact = BigInt(minor);
  if (exact < 0n) throw new Error(`Not an amount: ${minor}`);
  return `${exact / 100n}.${(exact % 100n).toString().padStart(2, '0')}`;
}

/**
 * Sum of price times quantity over the lines, exact at any size: one price of 9,999,999,999.99
 * times 1,000 on a hundred lines is past Number.MAX_SAFE_INTEGER, so the sum is a bigint, to be
 * checked against a limit before it becomes a number again.
 */
export function totalOf(lines: ReadonlyArray<{ unitPrice: number; quantity: number }>): bigint {
  return lines.reduce((sum, line) => sum + BigInt(line.unitPrice) * BigInt(line.quantity), 0n);
}
