import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import { createRunView } from '../run/runState';
import { placeholderSteps } from '../app/runController';
import type { GraphDocument } from './document';
import { previewable, previewContext, shownValue } from './preview';

const catalogue = testCatalogue();
const doc: GraphDocument = {
  nodes: [
    { id: 'hook', type: 'webhook', position: { x: 0, y: 0 }, data: { label: 'Hook', samplePayload: { body: { amount: 7 } } } },
    { id: 'fetch', type: 'http', position: { x: 1, y: 0 }, data: { label: 'Fetch', config: { method: 'GET', url: 'http://a' }, pinned: { status: 200 } } },
    { id: 'next', type: 'http', position: { x: 2, y: 0 }, data: { label: 'Next', config: { method: 'GET', url: 'http://b' } } },
  ],
  edges: [
    { id: 'e1', source: 'hook', target: 'fetch' },
    { id: 'e2', source: 'fetch', target: 'next' },
  ],
  meta: { name: 'Preview', version: 1 },
};

describe('expression preview', () => {
  it('asks about templates, and about any condition', () => {
    expect(previewable('plain text', 'template')).toBe(false);
    expect(previewable('Hi {{ payload.body.name }}', 'template')).toBe(true);
    expect(previewable('amount > 5', 'condition')).toBe(true);
    expect(previewable('  ', 'condition')).toBe(false);
  });

  it('renders against the sample payload and the pins until the graph has run, then against that run', () => {
    expect(previewContext(doc, catalogue, 'next', null)).toEqual({ sample: { payload: { body: { amount: 7 } }, steps: { fetch: { status: 200 } } } });
    const queued = createRunView('r9', 'canvas', { onCanvas: true, steps: placeholderSteps(doc, catalogue) });
    expect(previewContext(doc, catalogue, 'next', queued)).toEqual({ runId: 'r9' });
    const ran = { ...queued, steps: queued.steps.map((s) => ({ ...s, placeholder: false })) };
    expect(previewContext(doc, catalogue, 'next', ran)).toEqual({ runId: 'r9', stepId: 'next' });
    expect(previewContext(doc, catalogue, 'next', { ...ran, onCanvas: false })).toHaveProperty('sample');
  });

  it('shows text as it is and anything else as JSON, cut short', () => {
    expect(shownValue('Bearer ••••')).toBe('Bearer ••••');
    expect(shownValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(shownValue('x'.repeat(400))).toHaveLength(301);
  });
});
