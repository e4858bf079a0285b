import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTQuantile } from '../../src/experiments/student-t.js';
import { expectCode } from '../core/helpers.js';

describe('studentTQuantile', () => {
  // Two-sided 95% (p = 0.975) and 99% (p = 0.995) critical values from published t tables
  // (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2), to the digits printed there.
  it.each([
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 3, 3.182],
    [0.975, 4, 2.776],
    [0.975, 9, 2.262],
    [0.975, 29, 2.045],
    [0.975, 100, 1.984],
    [0.995, 4, 4.604],
    [0.95, 10, 1.812],
  ])('p = %f, df = %i gives %f', (p, df, expected) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(expected, 3);
  });

  it('matches closed forms: df 1 is Cauchy, df 2 has t = (2p − 1)·sqrt(2 / (1 − (2p − 1)²))', () => {
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 9);
      const a = 2 * p - 1;
      expect(studentTQuantile(p, 2)).toBeCloseTo(a * Math.sqrt(2 / (1 - a * a)), 9);
    }
  });

  it('approaches the normal quantile 1.959964 for large df, and is symmetric', () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 12);
    expect(studentTQuantile(0.5, 3)).toBe(0);
  });

  it('inverts the CDF', () => {
    for (const df of [1, 2.5, 4, 30]) {
      for (const p of [0.01, 0.3, 0.9, 0.995]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
    }
    expect(studentTCdf(0, 5)).toBe(0.5);
    expect(studentTCdf(Number.POSITIVE_INFINITY, 5)).toBe(1);
  });

  it('rejects bad arguments', () => {
    expectCode(() => studentTQuantile(1, 4), 'OUT_OF_RANGE', /'p' passed to studentTQuantile\(\) must be a probability in \(0, 1\) but got 1/);
    expectCode(() => studentTQuantile(0.975, 0), 'OUT_OF_RANGE', /'df' passed to studentTQuantile\(\) must be a finite number > 0 but got 0/);
    expectCode(() => studentTCdf(Number.NaN, 3), 'INVALID_TYPE', /'t' passed to studentTCdf\(\)/);
  });
});
