// What an expression preview is rendered against (pure): the run on the canvas, else the pins.
// The server renders it (POST /v1/expressions/preview, by the engine's own renderer): nothing is evaluated here.

import type { RunView } from '../run/runState';
import type { GraphDocument } from './document';
import { isTrigger, type Catalogue } from './nodeTypes';
import { pinsOf } from './pins';

export type PreviewContext = { runId: string; stepId?: string } | { sample: { payload?: unknown; steps: Record<string, unknown> } };

export type PreviewMode = 'template' | 'condition';

/** Worth asking about: a template, or a condition (which is one expression, with or without braces). */
export function previewable(text: string, mode: PreviewMode): boolean {
  return mode === 'condition' ? text.trim() !== '' : text.includes('{{');
}

/**
 * The last run of this graph, as the step saw it when it ran in it; else the trigger's sample payload and the
 * steps' pins, so a workflow that never ran previews too.
 */
export function previewContext(doc: GraphDocument, catalogue: Catalogue, nodeId: string, run: RunView | null): PreviewContext {
  if (run?.onCanvas) return run.steps.some((s) => s.nodeId === nodeId && !s.placeholder) ? { runId: run.runId, stepId: nodeId } : { runId: run.runId };
  const trigger = doc.nodes.find((n) => isTrigger(catalogue.get(n.type)) && n.data.samplePayload !== undefined);
  return { sample: { ...(trigger ? { payload: trigger.data.samplePayload } : {}), steps: pinsOf(doc, catalogue) } };
}

/** A previewed value in one short line: text as it is, anything else as JSON. */
export function shownValue(value: unknown, max = 300): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
