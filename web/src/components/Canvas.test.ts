import { describe, expect, it } from 'vitest';
import { showsWhole } from './Canvas';

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
