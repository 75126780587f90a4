import { describe, expect, it } from 'vitest';
import type { StepItem } from '../api/types';
import {
  clampIndex,
  emptyPager,
  itemAt,
  pageNeeded,
  pageOf,
  pageQuery,
  parseIndex,
  stripAround,
  withPage,
  type ItemPager,
} from './itemPager';

const SIZE = 50;

function item(index: number, status: StepItem['status'] = 'succeeded'): StepItem {
  return { index, status, output: { index }, error: null, durationMs: 3, runId: `r.i${index}` };
}

function page(p: number, statuses: (i: number) => StepItem['status'] = () => 'succeeded', total = 10_000) {
  const items = [];
  for (let i = p * SIZE; i < Math.min((p + 1) * SIZE, total); i += 1) items.push(item(i, statuses(i)));
  return items;
}

const at = (index: number, patch: Partial<ItemPager> = {}): ItemPager => ({ ...emptyPager(), index, ...patch });

describe('the item pager', () => {
  it('asks for the one page holding the item picked, never every item', () => {
    expect(pageOf(0)).toBe(0);
    expect(pageOf(49)).toBe(0);
    expect(pageOf(50)).toBe(1);
    expect(pageOf(9_999)).toBe(199);
    expect(pageNeeded(at(2), 0)).toBe(0);
    expect(pageQuery(0)).toEqual({ offset: 0, limit: SIZE });
    expect(pageNeeded(at(7_321), 10_000)).toBe(146);
    expect(pageQuery(146)).toEqual({ offset: 7_300, limit: SIZE });
  });

  it('keeps a page while it holds finished items only, however many items finish elsewhere', () => {
    const held = withPage(at(2), 0, { items: page(0), atDone: 60 });
    expect(pageNeeded(held, 60)).toBeNull();
    expect(pageNeeded(held, 900)).toBeNull();
    expect(itemAt(held, 2)?.output).toEqual({ index: 2 });
  });

  it('asks again for a page with unfinished items once more items have finished, not before', () => {
    const running = withPage(at(2), 0, { items: page(0, (i) => (i < 2 ? 'succeeded' : i === 2 ? 'running' : 'queued')), atDone: 2 });
    expect(pageNeeded(running, 2)).toBeNull();
    expect(pageNeeded(running, 3)).toBe(0);
    // A step waiting in an item (a wait in the body) has not finished either.
    const waiting = withPage(at(2), 0, { items: page(0, (i) => (i === 2 ? 'waiting' : 'succeeded')), atDone: 49 });
    expect(pageNeeded(waiting, 49)).toBeNull();
    expect(pageNeeded(waiting, 50)).toBe(0);
  });

  it('moves to another page when the item picked is on it', () => {
    const held = withPage(at(2), 0, { items: page(0), atDone: 100 });
    expect(pageNeeded({ ...held, index: 51 }, 100)).toBe(1);
    expect(pageNeeded({ ...held, index: 49 }, 100)).toBeNull();
  });

  it('keeps the few pages nearest the item picked', () => {
    let pager = at(0);
    for (const p of [0, 1, 2, 3, 4, 5]) pager = withPage({ ...pager, index: p * SIZE }, p, { items: page(p), atDone: 300 });
    expect(Object.keys(pager.pages).map(Number).sort((a, b) => a - b)).toEqual([2, 3, 4, 5]);
    pager = withPage({ ...pager, index: 0 }, 0, { items: page(0), atDone: 300 });
    expect(Object.keys(pager.pages).map(Number).sort((a, b) => a - b)).toEqual([0, 2, 3, 4]);
  });

  it('clears the page being loaded and the last error when a page arrives', () => {
    const pager = withPage(at(3, { loading: 0, error: 'boom' }), 0, { items: page(0), atDone: 0 });
    expect(pager.loading).toBeNull();
    expect(pager.error).toBeNull();
  });

  it('jumps only to an index there is', () => {
    expect(parseIndex('2', 5)).toBe(2);
    expect(parseIndex(' 4 ', 5)).toBe(4);
    expect(parseIndex('5', 5)).toBeNull();
    expect(parseIndex('-1', 5)).toBeNull();
    expect(parseIndex('1.5', 5)).toBeNull();
    expect(parseIndex('', 5)).toBeNull();
    expect(clampIndex(7, 5)).toBe(4);
    expect(clampIndex(-3, 5)).toBe(0);
    expect(clampIndex(3, 0)).toBe(0);
  });

  it('shows a strip of items around the one picked, within its page', () => {
    expect(stripAround(2, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(stripAround(20, 100, 9)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(stripAround(1, 100, 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(stripAround(49, 100, 9)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49]);
    expect(stripAround(50, 100, 9)).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58]);
    expect(stripAround(9_999, 10_000, 9)).toEqual([9_991, 9_992, 9_993, 9_994, 9_995, 9_996, 9_997, 9_998, 9_999]);
    expect(stripAround(0, 0)).toEqual([]);
  });
});
