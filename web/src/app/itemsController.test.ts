import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from '../api/client';
import { fakeApi, testCatalogue } from '../api/fake';
import type { ItemProgress, StepItem, StepItems } from '../api/types';
import { createRunView, type StepView } from '../run/runState';
import { createBuilderStore } from '../store/store';
import { createItemsController } from './itemsController';

const TOTAL = 10_000;

function body(items: Partial<ItemProgress> = {}): StepView {
  return {
    id: 'http_2', nodeId: 'http_2', name: 'Tell Slack', type: 'http', status: 'running', durationMs: null, startedAt: null,
    finishedAt: null, attempt: 1, error: null, output: null, request: null, outputRef: null, attempts: [], handles: null,
    waitUntil: null, skipReason: null, pinned: false, calls: [], errorHandled: false, childRunId: null, resumeUrl: null, wait: null,
    items: { total: TOTAL, done: 0, succeeded: 0, failed: 0, skipped: 0, running: [], ...items },
  };
}

/** Answers a page as the items route does: every item below `done` finished, the rest queued. */
function pages(done: () => number) {
  return vi.fn<Api['listStepItems']>(async (_run, _step, offset, limit): Promise<StepItems> => {
    const items: StepItem[] = [];
    for (let i = offset; i < Math.min(offset + limit, TOTAL); i += 1)
      items.push({ index: i, status: i < done() ? 'succeeded' : 'queued', output: { i }, error: null, durationMs: 1, runId: `r.i${i}` });
    return { items, total: TOTAL };
  });
}

function setup(listStepItems: Api['listStepItems'], clock = { now: 0 }) {
  const store = createBuilderStore({ catalogue: testCatalogue() });
  store.getState().setRun({ ...createRunView('r1', 'canvas'), steps: [body()] });
  const items = createItemsController(store, fakeApi({ listStepItems }), { minGapMs: 1000, now: () => clock.now });
  const progress = (patch: Partial<ItemProgress>) =>
    store.getState().updateRun('r1', (run) => ({ ...run, steps: [body(patch)] }));
  return { store, items, progress, pager: () => store.getState().itemPagers.http_2 };
}

/** Lets the fake API's answers (promises) arrive. */
async function settle() {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

describe('items controller', () => {
  afterEach(() => vi.useRealTimers());

  it('fetches only the page holding the item picked, of 10,000', async () => {
    let done = 0;
    const list = pages(() => done);
    const { items, pager } = setup(list);
    items.refresh('http_2');
    await settle();
    expect(pager()?.pages[0]).toBeDefined();
    expect(list).toHaveBeenCalledTimes(1);
    expect(list).toHaveBeenLastCalledWith('r1', 'http_2', 0, 50);

    items.pick('http_2', 7_321);
    await settle();
    expect(pager()?.pages[146]).toBeDefined();
    expect(list).toHaveBeenLastCalledWith('r1', 'http_2', 7_300, 50);
    expect(list).toHaveBeenCalledTimes(2);
    expect(pager()?.index).toBe(7_321);
  });

  it('clamps a pick to the items there are', async () => {
    const { items, pager } = setup(pages(() => 0));
    items.pick('http_2', 20_000);
    expect(pager()?.index).toBe(TOTAL - 1);
    items.pick('http_2', -5);
    expect(pager()?.index).toBe(0);
    await settle();
  });

  it('fetches a page with unfinished items again as items finish, at most once a second', async () => {
    let done = 2;
    const clock = { now: 0 };
    const list = pages(() => done);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { items, progress, pager } = setup(list, clock);
    progress({ done: 2 });
    items.pick('http_2', 3);
    await settle();
    expect(pager()?.pages[0]).toBeDefined();
    expect(list).toHaveBeenCalledTimes(1);

    // Item 2 finishes 200 ms later: too soon to ask again, so a timer asks when the second is up.
    done = 3;
    clock.now = 200;
    progress({ done: 3 });
    items.refresh('http_2');
    expect(list).toHaveBeenCalledTimes(1);
    clock.now = 1000;
    vi.advanceTimersByTime(800);
    await settle();
    expect(list).toHaveBeenCalledTimes(2);
    await settle();
    expect(pager()?.pages[0]?.atDone).toBe(3);

    // Once every item on the page has finished, it is kept however many more finish.
    done = 60;
    clock.now = 5000;
    progress({ done: 60 });
    items.refresh('http_2');
    await settle();
    expect(list).toHaveBeenCalledTimes(3);
    progress({ done: 61 });
    clock.now = 9000;
    items.refresh('http_2');
    await settle();
    expect(list).toHaveBeenCalledTimes(3);
  });

  it('says why a page could not be loaded, and asks again only when picked again', async () => {
    const list = vi.fn<Api['listStepItems']>().mockRejectedValueOnce(new Error('The server answered 404 Not Found'));
    list.mockResolvedValue({ items: [], total: TOTAL });
    const { items, progress, pager } = setup(list);
    items.refresh('http_2');
    await settle();
    expect(pager()?.error).toBe('Couldn’t load the items: The server answered 404 Not Found');
    progress({ done: 1 });
    items.refresh('http_2');
    expect(list).toHaveBeenCalledTimes(1);
    items.pick('http_2', 0);
    await settle();
    expect(list).toHaveBeenCalledTimes(2);
    await settle();
    expect(pager()?.error).toBeNull();
  });

  it('drops a page that arrives after another run replaced the one shown', async () => {
    let answer: (page: StepItems) => void = () => undefined;
    const list = vi.fn<Api['listStepItems']>(() => new Promise((resolve) => (answer = resolve)));
    const { store, items } = setup(list);
    items.refresh('http_2');
    store.getState().setRun({ ...createRunView('r2', 'canvas'), steps: [body()] });
    answer({ items: [], total: TOTAL });
    await settle();
    expect(store.getState().itemPagers).toEqual({});
  });
});
