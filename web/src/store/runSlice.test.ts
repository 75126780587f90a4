import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import { emptyPager } from '../run/itemPager';
import { createRunView } from '../run/runState';
import { createBuilderStore } from './store';

describe('the run slice', () => {
  const store = () => createBuilderStore({ catalogue: testCatalogue() });

  it('keeps each step’s item picker for the run shown, and forgets them all for another run', () => {
    const s = store();
    s.getState().setRun(createRunView('r1', 'canvas'));
    s.getState().updateItemPager('r1', 'http_2', (p) => ({ ...p, index: 7 }));
    expect(s.getState().itemPagers.http_2).toEqual({ ...emptyPager(), index: 7 });
    // A later state of the same run keeps the picks.
    s.getState().setRun({ ...createRunView('r1', 'canvas'), status: 'running' });
    expect(s.getState().itemPagers.http_2?.index).toBe(7);
    s.getState().setRun(createRunView('r2', 'history'));
    expect(s.getState().itemPagers).toEqual({});
  });

  it('ignores a change for a run no longer shown', () => {
    const s = store();
    s.getState().setRun(createRunView('r2', 'canvas'));
    s.getState().updateItemPager('r1', 'http_2', (p) => ({ ...p, index: 3 }));
    expect(s.getState().itemPagers).toEqual({});
  });

  it('turns the inspector to the new run and opens the run panel', () => {
    const s = store();
    s.getState().setInspectorTab('config');
    s.getState().setRun(createRunView('r1', 'canvas'));
    expect(s.getState()).toMatchObject({ inspectorTab: 'run', runPanelOpen: true });
  });
});
