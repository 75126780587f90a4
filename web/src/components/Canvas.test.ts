import { describe, expect, it } from 'vitest';
import type { StepView } from '../run/runState';
import { edgeRunState, showsWhole } from './Canvas';

describe('showsWhole', () => {
  const graph = { x: 0, y: 0, width: 460, height: 80 };
  it('is true when every step is inside the canvas', () => {
    expect(showsWhole(graph, { x: 100, y: 200, zoom: 1 }, { width: 1000, height: 600 })).toBe(true);
  });
  it('is false when a narrower canvas cuts the graph off (behind the inspector, or past the edge)', () => {
    expect(showsWhole(graph, { x: 400, y: 200, zoom: 1 }, { width: 750, height: 600 })).toBe(false);
    expect(showsWhole(graph, { x: -10, y: 200, zoom: 1 }, { width: 1000, height: 600 })).toBe(false);
    expect(showsWhole(graph, { x: 400, y: 200, zoom: 0.5 }, { width: 750, height: 600 })).toBe(true);
  });
});

describe('edgeRunState on a loop', () => {
  const step = (patch: Partial<StepView>): StepView => ({
    id: 'x', nodeId: 'x', name: '', type: 'http', status: 'succeeded', durationMs: null, startedAt: null, finishedAt: null, attempt: 1,
    error: null, output: null, request: null, outputRef: null, attempts: [], handles: null, waitUntil: null, skipReason: null, pinned: false, calls: [],
    errorHandled: false, items: null, childRunId: null, resumeUrl: null, wait: null, ...patch,
  });
  const progress = { total: 3, done: 3, succeeded: 3, failed: 0, skipped: 0, running: [] };

  it('takes the body’s edge once an item ran, though the loop’s handles name only done', () => {
    const steps = new Map([
      ['loop_1', step({ id: 'loop_1', nodeId: 'loop_1', type: 'loop', handles: ['done'], items: progress })],
      ['if_1', step({ id: 'if_1', nodeId: 'if_1', items: progress })],
      ['after', step({ id: 'after', nodeId: 'after' })],
    ]);
    expect(edgeRunState({ source: 'loop_1', target: 'if_1', sourceHandle: 'each' }, steps)).toBe('taken');
    expect(edgeRunState({ source: 'loop_1', target: 'after', sourceHandle: 'done' }, steps)).toBe('taken');
  });

  it('leaves the body’s edge untaken when the loop had no items', () => {
    const none = { ...progress, total: 0, done: 0, succeeded: 0 };
    const steps = new Map([['loop_1', step({ id: 'loop_1', nodeId: 'loop_1', type: 'loop', handles: ['done'], items: none })]]);
    expect(edgeRunState({ source: 'loop_1', target: 'if_1', sourceHandle: 'each' }, steps)).toBe('untaken');
  });
});
