import { formatMinor, isDecimalAmount, toMinor, totalOf } from './money.js';

describe('money', () => {
  it('parses two-decimal strings into minor units exactly', () => {
    expect(toMinor('175.00')).toBe(17500);
    expect(toMinor('0.1')).toBe(10);
    expect(toMinor('20')).toBe(2000);
    expect(toMinor('19.99')).toBe(1999);
  });

  it('formats minor units with two decimals', () => {
    expect(formatMinor(17500)).toBe('175.00');
    expect(formatMinor(5)).toBe('0.05');
    expect(formatMinor(0)).toBe('0.00');
  });

  it('round-trips without float error', () => {
    for (const value of ['0.10', '0.20', '0.30', '1234567.89']) {
      expect(formatMinor(toMinor(value))).toBe(value);
    }
    expect(formatMinor(toMinor('0.10') + toMinor('0.20'))).toBe('0.30');
  });

  it('rejects what is not an amount', () => {
    for (const value of ['-1.00', '1.001', 'abc', '1e3', '', '1,00']) {
      expect(isDecimalAmount(value)).toBe(false);
      expect(() => toMinor(value)).toThrow('Not an amount');
    }
    expect(() => formatMinor(1.5)).toThrow('Not an amount');
  });

  it('totals lines exactly past Number.MAX_SAFE_INTEGER', () => {
    const line = { unitPrice: toMinor('9999999999.99'), quantity: 1000 };
    const total = totalOf(Array.from({ length: 10 }, () => line));
    expect(total).toBe(9_999_999_999_990_000n);
    expect(total > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(formatMinor(total)).toBe('99999999999900.00');
    expect(totalOf([])).toBe(0n);
  });
});
