import { describe, expect, it } from 'vitest';
import { formatTimeLeft } from './format';

describe('time left', () => {
  it('reads in the largest units that matter', () => {
    expect(formatTimeLeft(0)).toBe('now');
    expect(formatTimeLeft(400)).toBe('1 s');
    expect(formatTimeLeft(45_000)).toBe('45 s');
    expect(formatTimeLeft(12 * 60_000 + 5_000)).toBe('12 min');
    expect(formatTimeLeft(3 * 3_600_000)).toBe('3 h');
    expect(formatTimeLeft(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatTimeLeft(24 * 3_600_000 - 1000)).toBe('23 h 59 min');
    expect(formatTimeLeft(52 * 3_600_000)).toBe('2 d 4 h');
    expect(formatTimeLeft(30 * 86_400_000)).toBe('30 d');
  });
});
