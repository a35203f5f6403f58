/**
 * Money is integer minor units (cents) inside the service and a two-decimal string in JSON
 * ("175.00"). No float ever holds an amount.
 */
const DECIMAL = /^(\d{1,10})(?:\.(\d{1,2}))?$/;

export const CURRENCY = 'USD';

export function isDecimalAmount(value: string): boolean {
  return DECIMAL.test(value);
}

export function toMinor(value: string): number {
  const match = DECIMAL.exec(value);
  if (!match) throw new Error(`Not an amount: ${value}`);
  const [, units, fraction = ''] = match;
  return Number(units) * 100 + Number(fraction.padEnd(2, '0'));
}

export function formatMinor(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new Error(`Not an amount: ${minor}`);
  const units = Math.floor(minor / 100);
  const cents = minor % 100;
  return `${units}.${cents.toString().padStart(2, '0')}`;
}
