import { describe, expect, it } from 'vitest';
import { progressText } from './progress';

const progress = (patch: Partial<Parameters<typeof progressText>[0]>) => ({
  total: 100, done: 0, succeeded: 0, failed: 0, skipped: 0, running: [], ...patch,
});

describe('item progress', () => {
  it('reads done / total items', () => {
    expect(progressText(progress({ done: 37, succeeded: 37, running: [37] })).text).toBe('37 / 100 items');
    expect(progressText(progress({ total: 1, done: 1, succeeded: 1 })).text).toBe('1 / 1 item');
    expect(progressText(progress({ total: 10000, done: 2500 })).text).toBe('2,500 / 10,000 items');
  });

  it('names failures only when there are some', () => {
    expect(progressText(progress({ done: 3, succeeded: 3 })).failed).toBeNull();
    expect(progressText(progress({ done: 5, succeeded: 3, failed: 2 })).failed).toBe('2 failed');
    expect(progressText(progress({ done: 5, succeeded: 2, skipped: 3 })).skipped).toBe('3 skipped');
    expect(progressText(progress({ done: 5, succeeded: 5 })).skipped).toBeNull();
  });

  it('spells out every count in its title', () => {
    expect(progressText(progress({ done: 6, succeeded: 3, failed: 1, skipped: 2, running: [6, 7] })).title).toBe(
      '3 succeeded, 1 failed, 2 skipped (not reached in the item), 2 running',
    );
  });
});
