// Paging through a loop's items, or a body step's runs across them (pure). A loop may have 10,000 items, so the
// picker asks the server for the page holding the item picked (GET …/items?offset=&limit=), keeps a few pages, and
// asks again for a page it holds only while that page has items still to finish and more items have finished since.

import type { StepItem } from '../api/types';

export const ITEM_PAGE_SIZE = 50;
/** Pages kept per step; the ones furthest from the item picked go first. */
export const KEPT_PAGES = 4;

export interface ItemPage {
  items: StepItem[];
  /** The step's finished-item count when the page was fetched: a page with unfinished items is stale once it moves. */
  atDone: number;
}

export interface ItemPager {
  /** The item picked (its index, as `loop.index` numbers them: from 0). */
  index: number;
  pages: Record<number, ItemPage>;
  /** The page being fetched, if any. */
  loading: number | null;
  error: string | null;
}

export const emptyPager = (): ItemPager => ({ index: 0, pages: {}, loading: null, error: null });

export function pageOf(index: number, size = ITEM_PAGE_SIZE): number {
  return Math.floor(index / size);
}

/** The query for a page: `offset` and `limit` of the items route. */
export function pageQuery(page: number, size = ITEM_PAGE_SIZE): { offset: number; limit: number } {
  return { offset: page * size, limit: size };
}

export function clampIndex(index: number, total: number): number {
  if (!Number.isFinite(index) || total <= 0) return 0;
  return Math.min(Math.max(Math.trunc(index), 0), total - 1);
}

/** What "jump to" typed, as an item index, or null when it names none (empty, not a whole number, out of range). */
export function parseIndex(text: string, total: number): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const index = Number(trimmed);
  return index < total ? index : null;
}

export function itemAt(pager: ItemPager, index: number, size = ITEM_PAGE_SIZE): StepItem | undefined {
  return pager.pages[pageOf(index, size)]?.items.find((item) => item.index === index);
}

export function isFinished(item: StepItem): boolean {
  return item.status !== 'queued' && item.status !== 'running' && item.status !== 'waiting';
}

/**
 * The page to fetch for the item picked, or null when the one held will do: none is held, or it was fetched before
 * `done` moved and some of its items had not finished then.
 */
export function pageNeeded(pager: ItemPager, done: number, size = ITEM_PAGE_SIZE): number | null {
  const page = pageOf(pager.index, size);
  const held = pager.pages[page];
  if (!held) return page;
  if (held.atDone !== done && held.items.some((item) => !isFinished(item))) return page;
  return null;
}

/** The pager with a page fetched, keeping at most `keep` pages: those nearest the item picked. */
export function withPage(pager: ItemPager, page: number, loaded: ItemPage, keep = KEPT_PAGES, size = ITEM_PAGE_SIZE): ItemPager {
  const pages = { ...pager.pages, [page]: loaded };
  const here = pageOf(pager.index, size);
  const kept = Object.keys(pages)
    .map(Number)
    .sort((a, b) => Math.abs(a - here) - Math.abs(b - here) || a - b)
    .slice(0, keep);
  return {
    ...pager,
    pages: Object.fromEntries(kept.map((p) => [p, pages[p]!])),
    loading: pager.loading === page ? null : pager.loading,
    error: null,
  };
}

/** Up to `width` item indexes around the one picked, within its page (whose items' statuses are known), for the
 * picker's strip of items. */
export function stripAround(index: number, total: number, width = 9, size = ITEM_PAGE_SIZE): number[] {
  if (total <= 0) return [];
  const first = pageOf(index, size) * size;
  const last = Math.min(first + size, total) - 1;
  const span = Math.min(width, last - first + 1);
  const start = Math.min(Math.max(index - Math.floor(span / 2), first), last - span + 1);
  return Array.from({ length: span }, (_, i) => start + i);
}
