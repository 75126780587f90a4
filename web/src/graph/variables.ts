// `{{ … }}` templates in node configs (docs/API.md, "Templates in node configs"), pure: how typed values become
// the run's `inputs`, and what the "Insert variable" menu offers. Which inputs a workflow reads is the server's
// rule (schemas.compiler.run_inputs), reported by POST /v1/workflows/validate.

import { isIdentifier, isPlainObject, type GraphDocument } from './document';
import { isTrigger, type Catalogue } from './nodeTypes';
import { topologicalOrder } from './algorithms';

const INPUTS_PREFIX = 'inputs';

/** Every string inside one value. Object keys are not rendered by the server, so they are left out. */
export function stringsIn(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v)) Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

/** Where a path lands in `inputs`: `inputs.x` and `x` are the same input. */
function normaliseInputPath(path: string): string {
  return path.startsWith(`${INPUTS_PREFIX}.`) ? path.slice(INPUTS_PREFIX.length + 1) : path;
}

/** Names passed to `getCredential('…')` anywhere in the workflow's templates. */
export function credentialCalls(doc: GraphDocument, catalogue: Catalogue): string[] {
  return [...new Set(credentialRefs(doc, catalogue).map((r) => r.name))].filter((name) => name !== '');
}

export interface CredentialRef {
  name: string;
  nodeId: string;
  /** The config key that names it: a credential field (`auth`) or a templated one (`url`, `headers`). */
  field: string;
}

const GET_CREDENTIAL = /getCredential\(\s*(['"])([^'"]*)\1\s*\)/g;

/** Every stored credential the workflow names: in credential fields (`{credentialName}`) and in getCredential('…'). */
export function credentialRefs(doc: GraphDocument, catalogue: Catalogue): CredentialRef[] {
  const refs: CredentialRef[] = [];
  for (const node of doc.nodes) {
    const info = catalogue.get(node.type);
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    if (!info) continue;
    for (const field of info.credentialFields) {
      const value = config[field];
      if (isPlainObject(value) && typeof value.credentialName === 'string' && value.credentialName !== '')
        refs.push({ name: value.credentialName, nodeId: node.id, field });
    }
    for (const field of info.templatedFields)
      for (const text of stringsIn(config[field]))
        for (const m of text.matchAll(GET_CREDENTIAL)) refs.push({ name: m[2] ?? '', nodeId: node.id, field });
  }
  return refs;
}

/** The run's `inputs` from typed values by path: `payload.title=Hi` → `{payload: {title: 'Hi'}}`. */
export function buildInputs(values: Readonly<Record<string, string>>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    const parts = normaliseInputPath(path).split('.');
    const last = parts.pop();
    if (!last) continue;
    let target = inputs;
    for (const part of parts) {
      const next = target[part];
      if (!isPlainObject(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[last] = value;
  }
  return inputs;
}

/** A `{{` with no `}}` after it: Jinja would refuse the template at run time. */
export function unclosedTemplate(text: string): boolean {
  const open = text.lastIndexOf('{{');
  return open !== -1 && text.indexOf('}}', open + 2) === -1;
}

export const hasTemplate = (text: string): boolean => text.includes('{{');

/** Steps whose output a node can read: every step it (transitively) comes after, in run order. */
export function upstreamSteps(doc: GraphDocument, catalogue: Catalogue, nodeId: string): { id: string; label: string }[] {
  const ancestors = new Set<string>();
  const queue = [nodeId];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const edge of doc.edges)
      if (edge.target === id && !ancestors.has(edge.source)) {
        ancestors.add(edge.source);
        queue.push(edge.source);
      }
  }
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return topologicalOrder(doc)
    .filter((id) => {
      const node = byId.get(id);
      return ancestors.has(id) && id !== nodeId && node !== undefined && !isTrigger(catalogue.get(node.type));
    })
    .map((id) => ({ id, label: byId.get(id)?.data.label || id }));
}

/** How a template names a step: `steps.http_1` for identifier ids, `steps['my-id']` for any other. */
export function stepRef(id: string): string {
  return isIdentifier(id) ? `steps.${id}` : `steps['${id.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/** `.body.id`, `['user-id']`, `[0]`: one path segment as a template writes it. */
function segment(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return isIdentifier(key) ? `.${key}` : `['${key.replace(/'/g, "\\'")}']`;
}

const MAX_OUTPUT_PATHS = 16;
const MAX_OUTPUT_DEPTH = 3;

/** Paths into a value seen in a run (`.status`, `.body`, `.body.id`), breadth first, with a short preview. */
export function outputPaths(value: unknown): { path: string; preview: string }[] {
  const out: { path: string; preview: string }[] = [];
  let level: { path: string; value: unknown }[] = [{ path: '', value }];
  for (let depth = 0; depth < MAX_OUTPUT_DEPTH && level.length > 0; depth += 1) {
    const next: { path: string; value: unknown }[] = [];
    for (const item of level) {
      const children: [string | number, unknown][] = isPlainObject(item.value)
        ? Object.entries(item.value)
        : Array.isArray(item.value) && item.value.length > 0
          ? [[0, item.value[0]]]
          : [];
      for (const [key, child] of children) {
        const path = item.path + segment(key);
        out.push({ path, preview: preview(child) });
        if (out.length >= MAX_OUTPUT_PATHS) return out;
        next.push({ path, value: child });
      }
    }
    level = next;
  }
  return out;
}

function preview(value: unknown): string {
  if (isPlainObject(value)) return `{…} ${Object.keys(value).length} fields`;
  if (Array.isArray(value)) return `[…] ${value.length} items`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export interface Suggestion {
  group: 'Run inputs' | 'Step outputs' | 'Credentials';
  text: string;
  /** What the entry means, shown under it. */
  detail: string;
  /** Where the cursor goes, counted from the start of `text` (default: after it). */
  caret?: number;
}

export interface SuggestionContext {
  credentialNames: readonly string[];
  /** The run inputs the server reports for this workflow (`databaseId`, `payload.title`). */
  inputs: readonly string[];
  /** Outputs of the last run of the canvas, by node id: their fields are offered as they were. */
  outputs?: Readonly<Record<string, unknown>>;
}

/** What the "Insert variable" menu offers for a field of `nodeId`: only forms the server's templates accept. */
export function suggestions(doc: GraphDocument, catalogue: Catalogue, nodeId: string, context: SuggestionContext): Suggestion[] {
  const out: Suggestion[] = context.inputs.map((path) => ({
    group: 'Run inputs',
    text: `{{${path}}}`,
    detail: 'Asked for when you press Run',
  }));
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  for (const step of upstreamSteps(doc, catalogue, nodeId)) {
    const ref = stepRef(step.id);
    const seen = context.outputs?.[step.id];
    if (seen !== undefined)
      for (const { path, preview } of outputPaths(seen))
        out.push({ group: 'Step outputs', text: `{{${ref}.output${path}}}`, detail: `${step.label}: ${preview} in the last run` });
    else
      for (const [path, meaning] of declaredOutputs(catalogue, byId.get(step.id)))
        out.push({ group: 'Step outputs', text: `{{${ref}.output.${path}}}`, detail: `${step.label}: ${meaning}` });
    out.push({ group: 'Step outputs', text: `{{${ref}.output}}`, detail: `${step.label}: its whole output` });
    const field = `{{${ref}.output.}}`;
    out.push({ group: 'Step outputs', text: field, detail: `${step.label}: a field of its output`, caret: field.length - 2 });
    const settings = byId.get(step.id)?.data.settings;
    if (isPlainObject(settings) && settings.onError === 'continue')
      out.push({ group: 'Step outputs', text: `{{${ref}.error}}`, detail: `${step.label}: its error, when it failed and the run went on` });
  }
  for (const name of context.credentialNames)
    out.push({ group: 'Credentials', text: `{{getCredential('${name}')}}`, detail: 'Secret value, filled in on the server' });
  return out;
}

/** Before any run, the fields a step's type says it outputs (a Set step's are its own value names). */
function declaredOutputs(catalogue: Catalogue, node: GraphDocument['nodes'][number] | undefined): [string, string][] {
  const ui = node ? catalogue.get(node.type)?.ui : undefined;
  if (!node || !ui) return [];
  const declared = Object.entries(ui.outputFields ?? {});
  const from = ui.outputFieldsFrom ? (isPlainObject(node.data.config) ? node.data.config[ui.outputFieldsFrom] : undefined) : undefined;
  const named = isPlainObject(from) ? Object.keys(from).filter((k) => /^[A-Za-z_]\w*$/.test(k)).map((k): [string, string] => [k, 'a value it sets']) : [];
  return [...declared, ...named];
}

/** Inserts `text` over the selection [start, end) of `value`; returns the new value and caret position. */
export function insertAt(value: string, start: number | null, end: number | null, text: string, caret = text.length) {
  const from = start ?? value.length;
  const to = Math.max(from, end ?? from);
  return { value: value.slice(0, from) + text + value.slice(to), caret: from + caret };
}

/** Whether `position` in JSON text falls inside a string literal. */
export function insideJsonString(text: string, position: number): boolean {
  let inside = false;
  for (let i = 0; i < position && i < text.length; i += 1) {
    const ch = text[i];
    if (inside && ch === '\\') i += 1;
    else if (ch === '"') inside = !inside;
  }
  return inside;
}
