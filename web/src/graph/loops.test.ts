import { describe, expect, it } from 'vitest';
import type { GraphDocument } from './document';
import { enclosingLoops, loopBodies, loopBody } from './loops';

/** Nodes by id and type; edges as [source, target, sourceHandle?]. */
function graph(nodes: Record<string, string>, edges: [string, string, string?][]): GraphDocument {
  return {
    nodes: Object.entries(nodes).map(([id, type], i) => ({ id, type, position: { x: i * 280, y: 0 }, data: { label: id } })),
    edges: edges.map(([source, target, sourceHandle]) => ({ id: `${source}-${target}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) })),
    meta: { name: 'Loops', version: 1 },
  };
}

// start → fetch → each: (enrich → save) ; done: report
const simple = graph(
  { start: 'start', fetch: 'http', items: 'loop', enrich: 'http', save: 'http', report: 'http' },
  [['start', 'fetch'], ['fetch', 'items'], ['items', 'enrich', 'each'], ['enrich', 'save'], ['items', 'report', 'done']],
);

describe('loop bodies', () => {
  it('are every node reachable from the loop’s each output, not its done output nor itself', () => {
    expect([...loopBody(simple, 'items')].sort()).toEqual(['enrich', 'save']);
  });

  it('are empty for a loop with nothing on each, or a node that is no loop', () => {
    const bare = graph({ start: 'start', items: 'loop', after: 'http' }, [['start', 'items'], ['items', 'after', 'done']]);
    expect(loopBody(bare, 'items').size).toBe(0);
    expect(loopBody(simple, 'fetch').size).toBe(0);
  });

  it('include a step the body shares with what follows the loop (reachable either way)', () => {
    const joined = graph(
      { start: 'start', items: 'loop', a: 'http', b: 'http' },
      [['start', 'items'], ['items', 'a', 'each'], ['items', 'b', 'done'], ['a', 'b']],
    );
    expect([...loopBody(joined, 'items')].sort()).toEqual(['a', 'b']);
  });

  it('are listed for every loop node, by id', () => {
    expect([...loopBodies(simple)].map(([id, body]) => [id, [...body].sort()])).toEqual([['items', ['enrich', 'save']]]);
  });
});

describe('the loops around a node', () => {
  // orders → each: (lines → each: (price) ; done: total)
  const nested = graph(
    { start: 'start', orders: 'loop', lines: 'loop', price: 'http', total: 'http', after: 'http' },
    [
      ['start', 'orders'],
      ['orders', 'lines', 'each'],
      ['lines', 'price', 'each'],
      ['lines', 'total', 'done'],
      ['orders', 'after', 'done'],
    ],
  );

  it('are listed outermost first, whatever the document order', () => {
    expect(enclosingLoops(nested, 'price')).toEqual(['orders', 'lines']);
    const reordered = { ...nested, nodes: [...nested.nodes].reverse() };
    expect(enclosingLoops(reordered, 'price')).toEqual(['orders', 'lines']);
  });

  it('stop where a loop’s body ends', () => {
    expect(enclosingLoops(nested, 'total')).toEqual(['orders']);
    expect(enclosingLoops(nested, 'lines')).toEqual(['orders']);
    expect(enclosingLoops(nested, 'after')).toEqual([]);
    expect(enclosingLoops(nested, 'orders')).toEqual([]);
  });
});
