import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import { createRunView, type StepView } from '../run/runState';
import { placeholderSteps } from '../app/runController';
import type { GraphDocument } from './document';
import { pinsOf, planTest } from './pins';

const catalogue = testCatalogue();

// webhook → fetch → check → notify, plus a side step after fetch that the test of `check` leaves out.
const doc: GraphDocument = {
  nodes: [
    { id: 'hook', type: 'webhook', position: { x: 0, y: 0 }, data: { label: 'Hook', config: {} } },
    { id: 'fetch', type: 'http', position: { x: 1, y: 0 }, data: { label: 'Fetch', config: { method: 'GET', url: 'http://a' } } },
    { id: 'side', type: 'http', position: { x: 2, y: 1 }, data: { label: 'Side', config: { method: 'GET', url: 'http://b' }, pinned: { side: true } } },
    { id: 'check', type: 'if', position: { x: 2, y: 0 }, data: { label: 'Check', config: { condition: 'true' } } },
    { id: 'notify', type: 'http', position: { x: 3, y: 0 }, data: { label: 'Notify', config: { method: 'GET', url: 'http://c' } } },
  ],
  edges: [
    { id: 'e1', source: 'hook', target: 'fetch' },
    { id: 'e2', source: 'fetch', target: 'check' },
    { id: 'e3', source: 'fetch', target: 'side' },
    { id: 'e4', source: 'check', target: 'notify', sourceHandle: 'true' },
  ],
  meta: { name: 'Pins', version: 1 },
};

function ranOnCanvas(outputs: Record<string, { output: unknown; outputRef?: string }>) {
  const steps: StepView[] = placeholderSteps(doc, catalogue).map((s) =>
    outputs[s.nodeId] ? { ...s, placeholder: false, status: 'succeeded', output: outputs[s.nodeId]!.output, outputRef: outputs[s.nodeId]!.outputRef ?? null } : s,
  );
  const trigger = outputs.hook ? [{ ...steps[0]!, id: 'hook', nodeId: 'hook', type: 'webhook', status: 'succeeded' as const, output: outputs.hook.output }] : [];
  return createRunView('r1', 'canvas', { onCanvas: true, steps: [...trigger, ...steps] });
}

describe('pins', () => {
  it('a run sends every step’s pin, never a trigger’s', () => {
    const withTriggerPin = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'hook' ? { ...n, data: { ...n.data, pinned: { payload: {} } } } : n)) };
    expect(pinsOf(withTriggerPin, catalogue)).toEqual({ side: { side: true } });
  });

  it('Test step pins the ancestors to their last outputs and runs to the step', () => {
    const run = ranOnCanvas({ hook: { output: { payload: { body: { amount: 5 } } } }, fetch: { output: { status: 200, body: { ok: true } } } });
    expect(planTest(doc, catalogue, 'check', run)).toEqual({
      runTo: 'check',
      inputs: {},
      pinData: { fetch: { status: 200, body: { ok: true } }, hook: { payload: { body: { amount: 5 } } } },
      fetch: [],
      rerun: [],
    });
  });

  it('a pin wins over the last output, the sample payload is the inputs, and a step never run runs again', () => {
    const sampled = {
      ...doc,
      nodes: doc.nodes.map((n) => (n.id === 'hook' ? { ...n, data: { ...n.data, samplePayload: { body: { amount: 500 } } } } : n.id === 'fetch' ? { ...n, data: { ...n.data, pinned: { status: 201 } } } : n)),
    };
    const plan = planTest(sampled, catalogue, 'notify', null);
    expect(plan.inputs).toEqual({ payload: { body: { amount: 500 } } });
    expect(plan.pinData).toEqual({ fetch: { status: 201 } });
    expect(plan.rerun).toEqual(['check']);
  });

  it('a large last output is fetched, and a run of another graph is not used', () => {
    const run = ranOnCanvas({ fetch: { output: null, outputRef: 'ref-1' } });
    expect(planTest(doc, catalogue, 'check', run).fetch).toEqual(['fetch']);
    expect(planTest(doc, catalogue, 'check', { ...run, onCanvas: false }).rerun).toEqual(['fetch']);
  });
});
