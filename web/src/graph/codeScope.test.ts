import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import { codeVariables } from './codeScope';
import type { GraphDocument } from './document';

const catalogue = testCatalogue();

function graph(nodes: Record<string, string>, edges: [string, string, string?][]): GraphDocument {
  return {
    nodes: Object.entries(nodes).map(([id, type], i) => ({ id, type, position: { x: i * 280, y: 0 }, data: { label: `The ${id}` } })),
    edges: edges.map(([source, target, sourceHandle]) => ({ id: `${source}-${target}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) })),
    meta: { name: 'Code', version: 1 },
  };
}

const names = (doc: GraphDocument, nodeId: string) => codeVariables(doc, catalogue, nodeId).map((v) => v.expression);

describe('what a code step can read', () => {
  it('is the payload, the inputs and each step before it, in run order, never the trigger or a step after it', () => {
    const doc = graph(
      { start: 'start', fetch: 'http', 'check-it': 'http', code_1: 'code', after: 'http', aside: 'http' },
      [['start', 'fetch'], ['fetch', 'check-it'], ['check-it', 'code_1'], ['code_1', 'after'], ['start', 'aside']],
    );
    expect(names(doc, 'code_1')).toEqual(['payload', 'inputs', 'steps.fetch.output', "steps['check-it'].output"]);
    expect(codeVariables(doc, catalogue, 'code_1')[2]).toMatchObject({ group: 'Steps', detail: 'The fetch: its output' });
  });

  it('adds the loop’s item, index and parent inside a loop’s body only', () => {
    const doc = graph(
      { start: 'start', items: 'loop', code_1: 'code', code_2: 'code' },
      [['start', 'items'], ['items', 'code_1', 'each'], ['items', 'code_2', 'done']],
    );
    expect(names(doc, 'code_1')).toEqual(['payload', 'inputs', 'steps.items.output', 'loop.item', 'loop.index', 'loop.parent']);
    expect(codeVariables(doc, catalogue, 'code_1').at(-1)?.detail).toMatch(/^null here/);
    expect(names(doc, 'code_2')).toEqual(['payload', 'inputs', 'steps.items.output']);
  });

  it('names the inner loop’s item in a loop inside a loop, and its parent as the outer one', () => {
    const doc = graph(
      { start: 'start', orders: 'loop', lines: 'loop', code_1: 'code' },
      [['start', 'orders'], ['orders', 'lines', 'each'], ['lines', 'code_1', 'each']],
    );
    const loop = codeVariables(doc, catalogue, 'code_1').filter((v) => v.group === 'Loop');
    expect(loop.map((v) => v.detail)).toEqual([
      'The item The lines runs this step for',
      'The item’s position in the list, from 0',
      'The enclosing loop’s {item, index, parent}',
    ]);
  });
});
