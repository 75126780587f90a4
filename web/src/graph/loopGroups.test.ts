import { describe, expect, it } from 'vitest';
import type { GraphDocument } from './document';
import { DEFAULT_NODE_SIZE, GROUP_LABEL, GROUP_PAD, loopGroups } from './loopGroups';

type At = [type: string, x: number, y: number];

function graph(nodes: Record<string, At>, edges: [string, string, string?][]): GraphDocument {
  return {
    nodes: Object.entries(nodes).map(([id, [type, x, y]]) => ({ id, type, position: { x, y }, data: { label: id } })),
    edges: edges.map(([source, target, sourceHandle]) => ({ id: `${source}-${target}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) })),
    meta: { name: 'Groups', version: 1 },
  };
}

const size = { width: 200, height: 60 };
const measured = () => size;

describe('loop groups', () => {
  // start → orders → each: (check → notify) ; done: summary
  const doc = graph(
    {
      start: ['start', 0, 0],
      orders: ['loop', 300, 0],
      check: ['if', 600, 0],
      notify: ['http', 900, -100],
      summary: ['http', 600, 300],
    },
    [['start', 'orders'], ['orders', 'check', 'each'], ['check', 'notify', 'true'], ['orders', 'summary', 'done']],
  );

  it('hold the body’s nodes, with room around them and above for the label, and not the loop nor what follows done', () => {
    const [group] = loopGroups(doc, measured);
    expect(group).toEqual({
      loopId: 'orders',
      depth: 0,
      x: 600 - GROUP_PAD,
      y: -100 - GROUP_PAD - GROUP_LABEL,
      width: 500 + 2 * GROUP_PAD,
      height: 160 + 2 * GROUP_PAD + GROUP_LABEL,
    });
  });

  it('follow a node as it moves', () => {
    const moved = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'notify' ? { ...n, position: { x: 1200, y: 200 } } : n)) };
    const [group] = loopGroups(moved, measured);
    expect(group!.width).toBe(800 + 2 * GROUP_PAD);
    expect(group!.y).toBe(0 - GROUP_PAD - GROUP_LABEL);
    expect(group!.height).toBe(260 + 2 * GROUP_PAD + GROUP_LABEL);
  });

  it('count a node not measured yet at a step’s usual size', () => {
    const [group] = loopGroups(doc, (id) => (id === 'notify' ? undefined : size));
    expect(group!.width).toBe(300 + DEFAULT_NODE_SIZE.width + 2 * GROUP_PAD);
  });

  it('are none for a loop with nothing on each', () => {
    const bare = graph({ start: ['start', 0, 0], orders: ['loop', 300, 0], after: ['http', 600, 0] }, [
      ['start', 'orders'],
      ['orders', 'after', 'done'],
    ]);
    expect(loopGroups(bare, measured)).toEqual([]);
  });

  it('nest: an inner loop’s region is inside its outer one’s, and drawn after it', () => {
    // customers → each: (orders → each: (line)) : the inner loop and its body are in the outer body.
    const nested = graph(
      {
        start: ['start', 0, 0],
        customers: ['loop', 300, 0],
        orders: ['loop', 600, 0],
        line: ['http', 900, 0],
      },
      [['start', 'customers'], ['customers', 'orders', 'each'], ['orders', 'line', 'each']],
    );
    const [outer, inner] = loopGroups(nested, measured);
    expect(outer!.loopId).toBe('customers');
    expect(outer!.depth).toBe(0);
    expect(inner!.loopId).toBe('orders');
    expect(inner!.depth).toBe(1);
    expect(inner!.x).toBe(900 - GROUP_PAD);
    // The outer region holds the inner loop node and the inner region, with its own room around both.
    expect(outer!.x).toBe(600 - GROUP_PAD);
    expect(outer!.y).toBe(inner!.y - GROUP_PAD - GROUP_LABEL);
    expect(outer!.x + outer!.width).toBe(inner!.x + inner!.width + GROUP_PAD);
    expect(outer!.y + outer!.height).toBe(inner!.y + inner!.height + GROUP_PAD);
  });
});
