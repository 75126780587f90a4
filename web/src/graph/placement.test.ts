import { describe, expect, it } from 'vitest';
import { DEFAULT_NODE_SIZE } from './loopGroups';
import { freeSpot, PLACE_GAP, REGION_GAP } from './placement';

type At = [type: string, x: number, y: number];

function graph(nodes: Record<string, At>, edges: [string, string, string?][]) {
  return {
    nodes: Object.entries(nodes).map(([id, [type, x, y]]) => ({ id, type, position: { x, y } })),
    edges: edges.map(([source, target, sourceHandle]) => ({ source, target, sourceHandle })),
  };
}

const sized = (sizes: Record<string, { width: number; height: number }>) => (id: string) => sizes[id];

describe('where a new step goes', () => {
  it('stays where it was asked when nothing is there', () => {
    const doc = graph({ start: ['start', 0, 0], http_1: ['http', 280, 0] }, [['start', 'http_1']]);
    expect(freeSpot(doc, 'http_1', { x: 280, y: 0 }, () => undefined)).toEqual({ x: 280, y: 0 });
  });

  it('goes below a step in the way, as tall as that step is drawn', () => {
    // An If with its outputs is 130 px tall: the false branch's step goes below the true branch's.
    const doc = graph(
      { if_1: ['if', 0, 0], yes: ['http', 280, 0], no: ['http', 280, 0] },
      [['if_1', 'yes', 'true'], ['if_1', 'no', 'false']],
    );
    const place = freeSpot(doc, 'no', { x: 280, y: 0 }, sized({ yes: { width: 220, height: 130 } }));
    expect(place).toEqual({ x: 280, y: 130 + PLACE_GAP });
  });

  it('after a loop’s done, goes below the loop’s body rather than inside it', () => {
    const doc = graph(
      { loop_1: ['loop', 0, 0], if_1: ['if', 280, 0], slack: ['http', 560, 0], summary: ['http', 280, 0] },
      [['loop_1', 'if_1', 'each'], ['if_1', 'slack', 'true'], ['loop_1', 'summary', 'done']],
    );
    const tall = sized({ if_1: { width: 220, height: 130 }, slack: { width: 220, height: 80 } });
    const place = freeSpot(doc, 'summary', { x: 280, y: 0 }, tall);
    // The body's region ends 20 px below the If (its padding); the step keeps a wider gap below that.
    expect(place.y).toBeGreaterThanOrEqual(130 + 20 + REGION_GAP);
    expect(place.x).toBe(280);
  });

  it('inside a loop’s body, may sit in the body’s region (it grows to hold it)', () => {
    const doc = graph(
      { loop_1: ['loop', 0, 0], a: ['http', 280, 0], b: ['http', 280, 200] },
      [['loop_1', 'a', 'each'], ['loop_1', 'b', 'each']],
    );
    const place = freeSpot(doc, 'b', { x: 280, y: 200 }, () => DEFAULT_NODE_SIZE);
    expect(place).toEqual({ x: 280, y: 200 });
  });
});
