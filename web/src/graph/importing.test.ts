import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import type { ImportReport, ImportResponse } from '../api/types';
import { documentOfImport, needsAttention, nextSteps, readImportText, toCheck } from './importing';

const catalogue = testCatalogue();

const report = (statuses: [string | null, ImportReport['nodes'][number]['status']][]): ImportReport => ({
  converted: statuses.filter(([, s]) => s === 'converted').length,
  review: statuses.filter(([, s]) => s === 'review').length,
  unsupported: statuses.filter(([, s]) => s === 'unsupported').length,
  nodes: statuses.map(([id, status]) => ({ id, status, from: { type: 'x', name: id ?? 'dropped' }, notes: [] })),
});

/** What POST /v1/import answers for n8n's Webhook → HTTP Request: every unset field spelled null. */
const answer: ImportResponse = {
  name: 'Orders from n8n',
  source: 'n8n',
  graph: {
    nodes: [
      { id: 'webhook', type: 'webhook', position: { x: 0, y: 375 }, data: { label: 'Webhook', config: { methods: ['POST'], responseMode: 'onReceived' } } },
      { id: 'book', type: 'http', position: { x: 385, y: 375 }, data: { label: 'Book', config: { method: 'GET', url: 'https://example.com/a', headers: {} } } },
    ],
    edges: [{ id: 'e-webhook-out-book', source: 'webhook', target: 'book', sourceHandle: null, targetHandle: null, type: null, data: null }],
    meta: { name: 'Orders from n8n', version: null, exportedAt: null, description: null, credentials: null },
    metadata: null,
  } as unknown as ImportResponse['graph'],
  report: report([['webhook', 'converted'], ['book', 'converted']]),
};

describe('reading what was pasted', () => {
  it('is JSON, or says it is not and what to paste', () => {
    expect(readImportText(' {"a": [1]} ')).toEqual({ ok: true, value: { a: [1] } });
    const broken = readImportText('{ "nodes": [');
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.reason).toMatch(/^This is not JSON \(.+\)\. Paste the whole export/);
    expect(readImportText('  \n')).toEqual({ ok: false, reason: 'Nothing to import yet: choose a .json file or paste an export.' });
  });
});

describe('what to do next', () => {
  it('says everything converted, then save and run', () => {
    expect(nextSteps(report([['a', 'converted']]))).toBe('Everything converted. Save it (Ctrl+S), then run it like any workflow.');
    expect(needsAttention(report([['a', 'converted']]))).toBe(false);
  });

  it('counts the steps to review and the placeholders, and says where the list is after import', () => {
    const mixed = report([['a', 'review'], ['b', 'review'], ['c', 'unsupported'], ['d', 'converted']]);
    expect(nextSteps(mixed)).toBe(
      '2 steps need review: the notes say what to check. 1 step had no counterpart and is a placeholder that fails until replaced. ' +
        'After import, Import report in the toolbar keeps this list: click a step there to select it on the canvas and fix it.',
    );
    expect(needsAttention(mixed)).toBe(true);
    expect(toCheck(mixed)).toBe(3);
    expect(nextSteps(mixed, true)).toMatch(/until replaced\. Click a step’s name to select it on the canvas and fix it in the inspector\.$/);
  });

  it('leaves out what was dropped: nothing on the canvas needs the user for it', () => {
    const dropped = report([['a', 'converted'], [null, 'unsupported']]);
    expect(nextSteps(dropped)).toBe('Everything converted. Save it (Ctrl+S), then run it like any workflow.');
    expect(needsAttention(dropped)).toBe(false);
    expect(nextSteps(report([['a', 'review']]))).toMatch(/^1 step needs review:/);
  });
});

describe('the imported document', () => {
  it('is the server\'s graph as a new workflow, named from the import, without the nulls', () => {
    const loaded = documentOfImport(answer, {}, catalogue);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.doc.meta).toEqual({ name: 'Orders from n8n', version: 1 });
    expect(loaded.doc.edges).toEqual([{ id: 'e-webhook-out-book', source: 'webhook', target: 'book' }]);
    expect(loaded.doc.nodes.map((n) => [n.id, n.position])).toEqual([
      ['webhook', { x: 0, y: 375 }],
      ['book', { x: 385, y: 375 }],
    ]);
  });

  it('keeps a template\'s description', () => {
    const withDescription = { ...answer, source: 'automateos' as const, graph: { ...answer.graph, meta: { ...answer.graph.meta!, description: 'Books orders' } } };
    const loaded = documentOfImport(withDescription, { name: 'x', definition: { steps: [] } }, catalogue);
    expect(loaded.ok && loaded.doc.meta).toEqual({ name: 'Orders from n8n', version: 1, description: 'Books orders' });
  });

  it('is our own export itself when that is what was imported, so nothing the server model drops is lost', () => {
    const own = {
      nodes: [
        { id: 'start', type: 'start', position: { x: 5, y: 6 }, data: { label: 'Go', somethingOfOurs: { kept: true } } },
        { id: 'set_1', type: 'set', position: { x: 300, y: 6 }, data: { label: 'Tag', config: { values: { a: '1' } } } },
      ],
      edges: [{ id: 'e-start-set_1', source: 'start', target: 'set_1' }],
      meta: { name: 'Mine', version: 3, description: 'kept' },
    };
    const loaded = documentOfImport({ ...answer, source: 'automateos', name: 'Mine' }, own, catalogue);
    expect(loaded.ok && loaded.doc).toEqual(own);
  });

  it('says why when the graph does not load', () => {
    const cyclic = { ...answer, graph: { ...answer.graph, edges: [...answer.graph.edges, { id: 'back', source: 'book', target: 'webhook' }] } } as ImportResponse;
    const loaded = documentOfImport(cyclic, {}, catalogue);
    expect(loaded.ok || loaded.reason).toBe('Webhook: Nothing can connect into the Webhook node');
  });
});
