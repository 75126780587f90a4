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

/** The credential a credential field names, in either shape: `{credentialName}` or the name itself; '' when none. */
export function credentialNameOf(value: unknown): string {
  const name = isPlainObject(value) ? value.credentialName : value;
  return typeof name === 'string' ? name : '';
}

/** Every stored credential the workflow names: in credential fields (`{credentialName}` or a name) and in getCredential('…'). */
export function credentialRefs(doc: GraphDocument, catalogue: Catalogue): CredentialRef[] {
  const refs: CredentialRef[] = [];
  for (const node of doc.nodes) {
    const info = catalogue.get(node.type);
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    if (!info) continue;
    for (const field of info.credentialFields) {
      const name = credentialNameOf(config[field]);
      if (name !== '') refs.push({ name, nodeId: node.id, field });
    }
    for (const field of info.templatedFields)
      for (const text of stringsIn(config[field]))
        for (const m of text.matchAll(GET_CREDENTIAL)) refs.push({ name: m[2] ?? '', nodeId: node.id, field });
  }
  return refs;
}

/** The run's `inputs` from typed values by path: `payload.title=Hi` → `{payload: {title: 'Hi'}}`. */
export function buildInputs(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
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
// A payload is read field by field (payload.body.order.amount), so it is walked deeper than a step's output.
const MAX_PAYLOAD_PATHS = 40;
const MAX_PAYLOAD_DEPTH = 4;

/** Paths into a value (`.status`, `.body`, `.body.id`), breadth first, with the value at each. */
function walk(value: unknown, maxDepth: number, maxPaths: number): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  let level: { path: string; value: unknown }[] = [{ path: '', value }];
  for (let depth = 0; depth < maxDepth && level.length > 0; depth += 1) {
    const next: { path: string; value: unknown }[] = [];
    for (const item of level) {
      const children: [string | number, unknown][] = isPlainObject(item.value)
        ? Object.entries(item.value)
        : Array.isArray(item.value) && item.value.length > 0
          ? [[0, item.value[0]]]
          : [];
      for (const [key, child] of children) {
        const path = item.path + segment(key);
        out.push({ path, value: child });
        if (out.length >= maxPaths) return out;
        next.push({ path, value: child });
      }
    }
    level = next;
  }
  return out;
}

/** Paths into a value seen in a run (`.status`, `.body`, `.body.id`), breadth first, with a short preview. */
export function outputPaths(value: unknown): { path: string; preview: string }[] {
  return walk(value, MAX_OUTPUT_DEPTH, MAX_OUTPUT_PATHS).map(({ path, value: v }) => ({ path, preview: preview(v) }));
}

/** What a value is, in the words a user knows: number, text, true/false, list, object, empty. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value)) return 'object';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'boolean') return 'true/false';
  return typeof value;
}

/**
 * The fields of a trigger's payload (`payload.body.amount`), each with its type and a preview, nested as in the
 * payload: each field right after the object it is in, so `payload.body`'s fields come before `payload.method`.
 */
export function payloadFields(payload: unknown): { path: string; type: string; preview: string }[] {
  const out: { path: string; type: string; preview: string }[] = [];
  const visit = (path: string, value: unknown, depth: number) => {
    if (depth >= MAX_PAYLOAD_DEPTH) return;
    const children: [string | number, unknown][] = isPlainObject(value)
      ? Object.entries(value)
      : Array.isArray(value) && value.length > 0
        ? [[0, value[0]]]
        : [];
    for (const [key, child] of children) {
      if (out.length >= MAX_PAYLOAD_PATHS) return;
      const at = path + segment(key);
      out.push({ path: at, type: typeName(child), preview: preview(child) });
      visit(at, child, depth + 1);
    }
  };
  visit('payload', payload, 0);
  return out;
}

function preview(value: unknown): string {
  if (isPlainObject(value)) return `{…} ${Object.keys(value).length} fields`;
  if (Array.isArray(value)) return `[…] ${value.length} items`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * Whether a path the server reports is a run input. The trigger's payload never is (a webhook's request, a
 * schedule's tick or a sample payload fills it), so Run never asks for `payload.…`.
 */
export const isRunInput = (path: string): boolean => path !== 'payload' && !path.startsWith('payload.') && !path.startsWith('payload[');

const PAYLOAD_USE = /\bpayload((?:\.[A-Za-z_]\w*)+)/g;

/** `payload.…` paths the workflow's templates already read, in document order. */
function payloadPathsUsed(doc: GraphDocument, catalogue: Catalogue): string[] {
  const found = new Set<string>();
  for (const node of doc.nodes) {
    const info = catalogue.get(node.type);
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    for (const field of info?.templatedFields ?? [])
      for (const text of stringsIn(config[field])) for (const m of text.matchAll(PAYLOAD_USE)) found.add(`payload${m[1]}`);
  }
  return [...found];
}

export type SuggestionGroup = 'Trigger payload' | 'Step outputs' | 'Run inputs' | 'Credentials';

export interface Suggestion {
  group: SuggestionGroup;
  /** The expression alone, as an expression field takes it: `payload.body.amount`. */
  expression: string;
  /** As a text field takes it: `{{payload.body.amount}}`. */
  text: string;
  /** What the entry means, shown under it. */
  detail: string;
  /** The value's type, when a sample or a run showed it (number, text, object…). */
  type?: string;
  /** Where the cursor goes, counted from the start of `text` (default: after it). */
  caret?: number;
}

function variable(group: SuggestionGroup, expression: string, detail: string, extra: { type?: string; caretInside?: boolean } = {}): Suggestion {
  const text = `{{${expression}}}`;
  const s: Suggestion = { group, expression, text, detail };
  if (extra.type) s.type = extra.type;
  if (extra.caretInside) s.caret = text.length - 2;
  return s;
}

export interface SuggestionContext {
  credentialNames: readonly string[];
  /** The run inputs the server reports for this workflow (`databaseId`); `payload.…` is never one. */
  inputs: readonly string[];
  /** Outputs of the last run of the canvas, by node id: their fields are offered as they were. */
  outputs?: Readonly<Record<string, unknown>>;
}

/**
 * What the "Insert variable" menu offers for a field of `nodeId`, in this order: the trigger's payload fields
 * (from its sample payload, else its last run, else what its type declares and the workflow already reads),
 * every upstream step's output fields, the run inputs, the credentials. Only forms the server's templates accept.
 */
export function suggestions(doc: GraphDocument, catalogue: Catalogue, nodeId: string, context: SuggestionContext): Suggestion[] {
  const out: Suggestion[] = [];
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const trigger = doc.nodes.find((n) => isTrigger(catalogue.get(n.type)));
  if (trigger && trigger.id !== nodeId) {
    const sample = trigger.data.samplePayload;
    const seen = sample !== undefined ? { value: sample, where: 'in the sample payload' } : context.outputs?.[trigger.id] !== undefined ? { value: context.outputs[trigger.id], where: 'in the last run' } : null;
    const offered = new Set<string>();
    if (seen)
      for (const field of payloadFields(seen.value)) {
        offered.add(field.path);
        out.push(variable('Trigger payload', field.path, `${field.preview} ${seen.where}`, { type: field.type }));
      }
    else
      for (const [path, meaning] of Object.entries(catalogue.get(trigger.type)?.ui.outputFields ?? {}))
        if (path.startsWith('payload.')) {
          offered.add(path);
          out.push(variable('Trigger payload', path, meaning));
        }
    for (const path of payloadPathsUsed(doc, catalogue))
      if (!offered.has(path)) out.push(variable('Trigger payload', path, 'Used elsewhere in this workflow'));
  }
  for (const step of upstreamSteps(doc, catalogue, nodeId)) {
    const ref = stepRef(step.id);
    const seen = context.outputs?.[step.id];
    if (seen !== undefined)
      for (const { path, value } of walk(seen, MAX_OUTPUT_DEPTH, MAX_OUTPUT_PATHS))
        out.push(variable('Step outputs', `${ref}.output${path}`, `${step.label}: ${preview(value)} in the last run`, { type: typeName(value) }));
    else
      for (const [path, meaning] of declaredOutputs(catalogue, byId.get(step.id)))
        out.push(variable('Step outputs', `${ref}.output.${path}`, `${step.label}: ${meaning}`));
    out.push(variable('Step outputs', `${ref}.output`, `${step.label}: its whole output`));
    out.push(variable('Step outputs', `${ref}.output.`, `${step.label}: a field of its output`, { caretInside: true }));
    const settings = byId.get(step.id)?.data.settings;
    if (isPlainObject(settings) && settings.onError === 'continue')
      out.push(variable('Step outputs', `${ref}.error`, `${step.label}: its error, when it failed and the run went on`));
  }
  for (const path of context.inputs.filter(isRunInput)) out.push(variable('Run inputs', path, 'Asked for when you press Run'));
  for (const name of context.credentialNames)
    out.push(variable('Credentials', `getCredential('${name}')`, 'Secret value, filled in on the server'));
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

/** Whether `position` falls inside a `{{ … }}` that is open there. */
export function insideTemplate(text: string, position: number): boolean {
  const before = text.slice(0, position);
  const open = before.lastIndexOf('{{');
  return open !== -1 && before.indexOf('}}', open) === -1;
}

/** A field's new text and what to select in it afterwards (a caret when start = end). */
export interface Insertion {
  value: string;
  selection: { start: number; end: number };
}

/**
 * How a field takes a variable: `expression` fields (an If's condition) are one expression, so they take the
 * bare path (`payload.body.amount`), as does a caret already inside `{{ }}`; `text` fields take `{{path}}`;
 * `json` keeps the JSON valid (see insertIntoJson).
 */
export type InsertMode = 'text' | 'expression' | 'json';

export function insertVariable(value: string, start: number | null, end: number | null, s: Suggestion, mode: InsertMode): Insertion {
  if (mode === 'json') return insertIntoJson(value, start, end, s);
  const bare = mode === 'expression' || insideTemplate(value, start ?? value.length);
  const caret = bare ? (s.caret === undefined ? s.expression.length : s.caret - 2) : (s.caret ?? s.text.length);
  const next = insertAt(value, start, end, bare ? s.expression : s.text, caret);
  return { value: next.value, selection: { start: next.caret, end: next.caret } };
}

/** A JSON key named after what a variable holds: `…body.id` → `id`; `…output` or `getCredential(…)` → `field`. */
export function jsonKeyFor(expression: string): string {
  const last = /(?:\.|\[')([A-Za-z_][\w-]*)'?\]?$/.exec(expression)?.[1];
  return !last || ['output', 'error', 'payload', 'body'].includes(last) || !/[.[]/.test(expression) ? 'field' : last;
}

function parses(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function unusedKey(base: string, taken: Record<string, unknown>): string {
  if (!(base in taken)) return base;
  for (let i = 2; ; i += 1) if (!(`${base}${i}` in taken)) return `${base}${i}`;
}

/**
 * Inserts a variable into JSON text so that valid JSON stays valid: inside a string it goes in as it is; where
 * a value belongs it goes in quoted (a value that is exactly one {{ }} keeps its type on the server); in an
 * empty object, or where only a property fits, it becomes a property named after it, with the name selected
 * to rename; anywhere else in an object, a new last property. Text that was not JSON before stays not JSON,
 * and the editor says so.
 */
export function insertIntoJson(text: string, start: number | null, end: number | null, s: Suggestion): Insertion {
  const from = Math.min(start ?? text.length, text.length);
  const to = Math.max(from, Math.min(end ?? from, text.length));
  const caretAt = (at: number): Insertion => ({ value: '', selection: { start: at, end: at } });
  if (insideJsonString(text, from)) return insertVariable(text, from, to, s, 'text');
  const quoted = `"${s.text}"`;
  const valueCaret = 1 + (s.caret ?? s.text.length);
  const before = parses(text);
  const object = before.ok && isPlainObject(before.value) ? before.value : null;
  const key = unusedKey(jsonKeyFor(s.expression), object ?? {});
  const property = `"${key}": ${quoted}`;
  const selectKey = (value: string, at: number): Insertion => ({ value, selection: { start: at + 1, end: at + 1 + key.length } });

  if (text.trim() === '' || (object && Object.keys(object).length === 0)) return selectKey(`{\n  ${property}\n}`, 4);
  const asValue = text.slice(0, from) + quoted + text.slice(to);
  if (parses(asValue).ok) return { ...caretAt(from + valueCaret), value: asValue };
  for (const [pre, post] of [['', ''], ['', ', '], [', ', ''], ['\n  ', ',']] as const) {
    const candidate = text.slice(0, from) + pre + property + post + text.slice(to);
    if (parses(candidate).ok) return selectKey(candidate, from + pre.length);
  }
  if (object) {
    const value = JSON.stringify({ ...object, [key]: s.text }, null, 2);
    return selectKey(value, value.lastIndexOf(`"${key}": `));
  }
  return { ...caretAt(from + valueCaret), value: asValue };
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
