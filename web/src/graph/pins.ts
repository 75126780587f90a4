// Pinned outputs and Test step: what a builder run sends as `pinData` and `runTo` (pure).
//
// Decided (docs/ARCHITECTURE.md, "Pins"): a step's pin is `data.pinned`, saved with the graph; a trigger's pin is
// its sample payload (`data.samplePayload`), which Run already used. Only the builder's Run and Test step send
// pins; a webhook's or a schedule's run never has them, as in n8n.

import type { RunView } from '../run/runState';
import type { GraphDocument } from './document';
import { enclosingLoops } from './loops';
import { isTrigger, type Catalogue } from './nodeTypes';
import { upstreamSteps } from './variables';

export const isPinned = (data: { pinned?: unknown }): boolean => data.pinned !== undefined && data.pinned !== null;

/** The pins a Run sends: every step's `data.pinned` (never a trigger's: its pin is the sample payload). */
export function pinsOf(doc: GraphDocument, catalogue: Catalogue): Record<string, unknown> {
  const pins: Record<string, unknown> = {};
  for (const node of doc.nodes)
    if (isPinned(node.data) && !isTrigger(catalogue.get(node.type))) pins[node.id] = node.data.pinned;
  return pins;
}

export interface TestPlan {
  runTo: string;
  inputs: Record<string, unknown>;
  pinData: Record<string, unknown>;
  /** Ancestors pinned to the shown run's output that is kept apart (large): fetched before the run starts. */
  fetch: string[];
  /** Ancestors with neither a pin nor a last output: they run again. */
  rerun: string[];
}

/**
 * Test step: `nodeId` runs alone, its ancestors pinned to their pin, else to their output in the run on the canvas.
 * A step of a loop's body has one output per item, so it is never pinned from a run (it runs again, in its loop);
 * the trigger's sample payload, when it has one, is the run's inputs, else its output in that run is.
 */
export function planTest(doc: GraphDocument, catalogue: Catalogue, nodeId: string, run: RunView | null): TestPlan {
  const shown = run?.onCanvas ? run : null;
  const lastOutput = (id: string) => shown?.steps.find((s) => s.nodeId === id && s.status === 'succeeded' && s.items === null);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const plan: TestPlan = { runTo: nodeId, inputs: {}, pinData: {}, fetch: [], rerun: [] };
  for (const { id } of upstreamSteps(doc, catalogue, nodeId)) {
    const node = byId.get(id);
    if (!node) continue;
    const step = lastOutput(id);
    if (isPinned(node.data)) plan.pinData[id] = node.data.pinned;
    else if (step && enclosingLoops(doc, id).length === 0) {
      if (step.outputRef) plan.fetch.push(id);
      else plan.pinData[id] = step.output;
    } else plan.rerun.push(id);
  }
  for (const trigger of doc.nodes.filter((n) => isTrigger(catalogue.get(n.type)))) {
    if (trigger.data.samplePayload !== undefined) plan.inputs = { payload: trigger.data.samplePayload };
    else {
      const step = lastOutput(trigger.id);
      if (step && step.output !== null && typeof step.output === 'object') plan.pinData[trigger.id] = step.output;
    }
  }
  return plan;
}
