// Reading workflow files (builder or template format) into a document, and writing the export (pure).

import type { ValidateOk } from '../api/types';
import { withoutLiteralSecrets } from './secrets';
import { DEFAULT_NAME, docEdge, isPlainObject, type DocEdge, type DocMeta, type DocNode, type GraphDocument } from './document';
import { isTrigger, type Catalogue } from './nodeTypes';
import { describeIssue, validateGraph } from './validate';

export type ParseResult = { ok: true; doc: GraphDocument } | { ok: false; reason: string };

// Same ids and layout as the server's template_to_graph (schemas/graph.py), so run steps match canvas nodes.
const STEP_SPACING_X = 260;

const fail = (reason: string): ParseResult => ({ ok: false, reason });

/** Parses text as JSON, then as a workflow, then checks it is a valid graph. */
export function parseWorkflowText(text: string, catalogue: Catalogue): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return loadWorkflow(value, catalogue);
}

/** Converts either accepted format and rejects graphs that would not run. */
export function loadWorkflow(value: unknown, catalogue: Catalogue): ParseResult {
  const parsed = parseWorkflow(value, catalogue);
  if (!parsed.ok) return parsed;
  const [first] = validateGraph(parsed.doc, catalogue);
  return first ? fail(describeIssue(first, parsed.doc, catalogue)) : parsed;
}

/** Structural conversion only: builder format as is, template format laid out Start → step → step. */
export function parseWorkflow(value: unknown, catalogue?: Catalogue): ParseResult {
  if (!isPlainObject(value)) return fail('expected a JSON object');
  if (isPlainObject(value.definition))
    return catalogue ? templateToDocument(value, catalogue) : fail('a template needs the server’s node types to be read');
  if (Array.isArray(value.nodes)) return builderToDocument(value, catalogue);
  return fail('not an AutomateOS workflow (expected “nodes” or “definition.steps”)');
}

export function templateToDocument(value: Record<string, unknown>, catalogue: Catalogue): ParseResult {
  const definition = value.definition as Record<string, unknown>;
  if (!Array.isArray(definition.steps)) return fail('template has no “definition.steps” list');
  if (value.name !== undefined && typeof value.name !== 'string') return fail('template “name” must be text');
  const trigger = catalogue.types.find(isTrigger);
  if (!trigger) return fail('this server declares no trigger node type to start a template from');
  const nodes: DocNode[] = [
    { id: trigger.ui.idPrefix, type: trigger.type, position: { x: 0, y: 0 }, data: { label: trigger.ui.defaultLabel } },
  ];
  const edges: DocEdge[] = [];
  for (const [index, step] of definition.steps.entries()) {
    const n = index + 1;
    if (!isPlainObject(step)) return fail(`step ${n} is not an object`);
    const info = typeof step.type === 'string' ? catalogue.get(step.type) : undefined;
    if (!info) return fail(`step ${n} has unsupported type “${String(step.type)}”`);
    if (step.config !== undefined && !isPlainObject(step.config)) return fail(`step ${n} “config” must be an object`);
    if (step.name !== undefined && typeof step.name !== 'string') return fail(`step ${n} “name” must be text`);
    const id = `step_${n}`;
    nodes.push({
      id,
      type: info.type,
      position: { x: n * STEP_SPACING_X, y: 0 },
      data: { label: step.name?.trim() || `Step ${n}`, config: structuredClone(step.config ?? {}) },
    });
    const previous = nodes[index]!.id;
    edges.push({ id: `e-${previous}-${id}`, source: previous, target: id });
  }
  const meta: DocMeta = { name: (value.name as string | undefined)?.trim() || DEFAULT_NAME, version: 1 };
  if (typeof value.description === 'string') meta.description = value.description;
  return { ok: true, doc: { nodes, edges, meta } };
}

/**
 * A template may name its steps' types by an older name the server still accepts (`http_request_node`).
 * When the catalogue does not list such a name, the server says which type each step is: it validates the
 * template and answers with every step's type. Anything else passes through unchanged.
 */
export async function withServerTypes(
  value: unknown,
  catalogue: Catalogue,
  validate: (graph: Record<string, unknown>) => Promise<ValidateOk>,
): Promise<unknown> {
  if (!isPlainObject(value) || !isPlainObject(value.definition) || !Array.isArray(value.definition.steps)) return value;
  const steps = value.definition.steps as unknown[];
  const unknown = steps.some((s) => isPlainObject(s) && typeof s.type === 'string' && !catalogue.get(s.type));
  if (!unknown) return value;
  let answer: ValidateOk;
  try {
    answer = await validate(value);
  } catch {
    return value; // Not a template the server runs: the load says why.
  }
  const types = new Map(answer.steps.map((s) => [s.id, s.type]));
  return {
    ...value,
    definition: {
      ...value.definition,
      steps: steps.map((step, i) =>
        isPlainObject(step) && types.has(`step_${i + 1}`) ? { ...step, type: types.get(`step_${i + 1}`) } : step,
      ),
    },
  };
}

/** The server has sent `config: null`, `settings: null` (and a null label or sample payload) for a node that has none: null means "not set", so
 * the key goes, and every check, form and save downstream sees the same thing as for a node that never had it. */
export function withoutNulls(data: Record<string, unknown>): Record<string, unknown> {
  const out = { ...data };
  for (const key of ['label', 'config', 'settings', 'samplePayload', 'pinned'] as const) if (out[key] === null) delete out[key];
  return out;
}

export function builderToDocument(value: Record<string, unknown>, catalogue?: Catalogue): ParseResult {
  const nodes: DocNode[] = [];
  for (const [index, raw] of (value.nodes as unknown[]).entries()) {
    const where = `node ${index + 1}`;
    if (!isPlainObject(raw)) return fail(`${where} is not an object`);
    if (typeof raw.id !== 'string' || raw.id === '') return fail(`${where} has no id`);
    if (typeof raw.type !== 'string' || raw.type === '') return fail(`${where} has no type`);
    // A file without positions (hand-written) is laid out left to right.
    const position = raw.position ?? { x: index * STEP_SPACING_X, y: 0 };
    if (!isPlainObject(position) || !Number.isFinite(position.x) || !Number.isFinite(position.y))
      return fail(`${where} has no valid position`);
    if (raw.data !== undefined && !isPlainObject(raw.data)) return fail(`${where} “data” must be an object`);
    const data = withoutNulls(structuredClone((raw.data ?? {}) as Record<string, unknown>));
    if (data.label !== undefined && typeof data.label !== 'string') return fail(`${where} label must be text`);
    nodes.push({
      id: raw.id,
      type: raw.type,
      position: { x: position.x as number, y: position.y as number },
      // A hand-written file may leave labels out: the trigger gets its usual name, a step its id.
      data: { ...data, label: (data.label as string | undefined) ?? (isTrigger(catalogue?.get(raw.type)) ? catalogue!.get(raw.type)!.ui.defaultLabel : raw.id) },
    });
  }
  const rawEdges = value.edges ?? [];
  if (!Array.isArray(rawEdges)) return fail('“edges” must be a list');
  const edges: DocEdge[] = [];
  for (const [index, raw] of rawEdges.entries()) {
    const where = `connection ${index + 1}`;
    if (!isPlainObject(raw)) return fail(`${where} is not an object`);
    if (typeof raw.source !== 'string' || typeof raw.target !== 'string')
      return fail(`${where} needs a source and a target`);
    for (const end of ['sourceHandle', 'targetHandle'] as const)
      if (raw[end] !== undefined && raw[end] !== null && typeof raw[end] !== 'string') return fail(`${where} “${end}” must be text`);
    const id = typeof raw.id === 'string' && raw.id !== '' ? raw.id : `e-${raw.source}-${raw.target}`;
    edges.push(docEdge({ ...(raw as { source: string; target: string }), id }));
  }
  const rawMeta = value.meta ?? value.metadata ?? {};
  if (!isPlainObject(rawMeta)) return fail('“meta” must be an object');
  const meta: DocMeta = {
    ...structuredClone(rawMeta),
    name: typeof rawMeta.name === 'string' && rawMeta.name.trim() !== '' ? rawMeta.name : DEFAULT_NAME,
    version:
      (typeof rawMeta.version === 'number' && Number.isFinite(rawMeta.version)) || typeof rawMeta.version === 'string'
        ? rawMeta.version
        : 1,
  };
  return { ok: true, doc: { nodes, edges, meta } };
}

/** The builder-format file an export downloads: config as the user set it, except secrets typed into
 * sensitive names (headers), which are left out (`removed` counts them). */
export function exportDocument(doc: GraphDocument, catalogue: Catalogue, now: Date = new Date()): GraphDocument {
  return exportWithReport(doc, catalogue, now).doc;
}

export function exportWithReport(
  doc: GraphDocument,
  catalogue: Catalogue,
  now: Date = new Date(),
): { doc: GraphDocument; removed: number } {
  const { doc: copy, removed } = withoutLiteralSecrets(doc, catalogue);
  copy.meta = { ...copy.meta, version: copy.meta.version || 1, exportedAt: now.toISOString() };
  return { doc: copy, removed };
}

export function exportFileName(doc: GraphDocument): string {
  const slug = doc.meta.name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${slug || 'workflow'}.automateos.json`;
}
