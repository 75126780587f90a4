// `{{ … }}` templates in node configs (docs/API.md, "Templates in node configs"), pure: which run inputs a
// workflow asks for, how typed values become the run's `inputs`, and what the "Insert variable" menu offers.

import { isPlainObject, type GraphDocument } from './document';
import { topologicalOrder } from './validate';

/** Config keys whose strings the server renders as templates; `json_body` is walked to every string inside. */
const TEMPLATED_KEYS = ['url', 'headers', 'body', 'json_body'] as const;

const EXPRESSION = /\{\{([\s\S]*?)\}\}/g;
/** A dotted path at the start of an expression: `payload.title`, `inputs.x`, `databaseId`. */
const LEADING_PATH = /^\s*([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*(\()?/;
/** Names that are Jinja literals or step outputs, never run inputs. */
const NOT_INPUTS = new Set(['steps', 'true', 'false', 'none', 'True', 'False', 'None', 'not', 'loop', 'range']);
const INPUTS_PREFIX = 'inputs';

/** Every string the server renders in one node's config. */
export function templatedStrings(config: unknown): string[] {
  if (!isPlainObject(config)) return [];
  const out: string[] = [];
  const walk = (value: unknown, withKeys: boolean) => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => walk(v, withKeys));
    else if (isPlainObject(value))
      for (const [k, v] of Object.entries(value)) {
        if (withKeys) out.push(k);
        walk(v, withKeys);
      }
  };
  for (const key of TEMPLATED_KEYS) walk(config[key], key === 'json_body');
  return out;
}

/** The inside of each `{{ … }}` in a string, trimmed. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(EXPRESSION)].map((m) => (m[1] ?? '').trim());
}

/** The run input an expression reads, as written (`payload.title`, `inputs.x`, `databaseId`), or null. */
export function inputPathOf(expression: string): string | null {
  const match = LEADING_PATH.exec(expression);
  if (!match || match[2]) return null; // A call such as getCredential('…').
  const path = (match[1] ?? '').replace(/\s+/g, '');
  const first = path.split('.')[0] ?? '';
  if (NOT_INPUTS.has(first) || path === INPUTS_PREFIX) return null;
  return path;
}

/** Where a path lands in `inputs`: `inputs.x` and `x` are the same input. */
export function normaliseInputPath(path: string): string {
  return path.startsWith(`${INPUTS_PREFIX}.`) ? path.slice(INPUTS_PREFIX.length + 1) : path;
}

/**
 * The run inputs a workflow uses, in document order, one per distinct input. A path that is the prefix of
 * another (`payload` beside `payload.title`) is left out: the longer one defines that object.
 */
export function inputVariables(doc: GraphDocument): string[] {
  const byTarget = new Map<string, string>();
  for (const id of topologicalOrder(doc)) {
    const node = doc.nodes.find((n) => n.id === id);
    for (const text of templatedStrings(node?.data.config))
      for (const expression of expressionsIn(text)) {
        const path = inputPathOf(expression);
        if (path && !byTarget.has(normaliseInputPath(path))) byTarget.set(normaliseInputPath(path), path);
      }
  }
  const targets = [...byTarget.keys()];
  return [...byTarget.entries()]
    .filter(([target]) => !targets.some((other) => other.startsWith(`${target}.`)))
    .map(([, path]) => path);
}

/** Names passed to `getCredential('…')` anywhere in the workflow's templates. */
export function credentialCalls(doc: GraphDocument): string[] {
  const names = new Set<string>();
  for (const node of doc.nodes)
    for (const text of templatedStrings(node.data.config))
      for (const m of text.matchAll(/getCredential\(\s*(['"])([^'"]*)\1\s*\)/g)) names.add(m[2] ?? '');
  return [...names];
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
export function upstreamSteps(doc: GraphDocument, nodeId: string): { id: string; label: string }[] {
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
    .filter((id) => ancestors.has(id) && id !== nodeId && byId.get(id)?.type !== 'start')
    .map((id) => ({ id, label: byId.get(id)?.data.label || id }));
}

export interface Suggestion {
  group: 'Run inputs' | 'Step outputs' | 'Credentials';
  text: string;
  /** What the entry means, shown under it. */
  detail: string;
  /** Where the cursor goes, counted from the start of `text` (default: after it). */
  caret?: number;
}

/** What the "Insert variable" menu offers for a field of `nodeId`. */
export function suggestions(doc: GraphDocument, nodeId: string, credentialNames: readonly string[]): Suggestion[] {
  const out: Suggestion[] = inputVariables(doc).map((path) => ({
    group: 'Run inputs',
    text: `{{${path}}}`,
    detail: 'Asked for when you press Run',
  }));
  for (const step of upstreamSteps(doc, nodeId)) {
    out.push({ group: 'Step outputs', text: `{{steps.${step.id}.output.status}}`, detail: `${step.label}: HTTP status` });
    const body = `{{steps.${step.id}.output.body.}}`;
    out.push({ group: 'Step outputs', text: body, detail: `${step.label}: a field of the response body`, caret: body.length - 2 });
  }
  for (const name of credentialNames)
    out.push({ group: 'Credentials', text: `{{getCredential('${name}')}}`, detail: 'Secret value, filled in on the server' });
  return out;
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
