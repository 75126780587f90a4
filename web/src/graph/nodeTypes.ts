// The node types the server declares (GET /v1/node-types), as the builder reads them: the palette, canvas
// nodes, handles, inspector forms, new-node defaults and client checks all come from these entries. Nothing
// here is written per node type; a type registered only in Python works the same as the built-in ones.

import type { FieldUi, Handle, NodeTypeInfo, NodeTypeList } from '../api/types';
import { DEFAULT_NAME, isPlainObject, type GraphDocument } from './document';

export type { FieldUi, Handle, NodeTypeInfo, NodeTypeList };
export type JsonSchema = Record<string, unknown>;
type Config = Record<string, unknown>;

/** A node type entry; `aliases` (older names the server accepts) is read when the server sends it. */
type Entry = NodeTypeInfo & { aliases?: string[] };

export interface Catalogue {
  /** In palette order. */
  readonly types: readonly NodeTypeInfo[];
  /** JSON Schema of `data.settings` (retry, onError) for types with `ui.errorHandling`. */
  readonly settingsSchema: JsonSchema;
  /** The entry for a type name, or for an older name of it. */
  get(type: string): NodeTypeInfo | undefined;
}

export function createCatalogue(list: NodeTypeList): Catalogue {
  const byName = new Map<string, NodeTypeInfo>();
  for (const entry of list.nodeTypes as Entry[]) {
    byName.set(entry.type, entry);
  }
  for (const entry of list.nodeTypes as Entry[]) {
    for (const alias of entry.aliases ?? []) if (!byName.has(alias)) byName.set(alias, entry);
  }
  return { types: list.nodeTypes, settingsSchema: list.settingsSchema, get: (type) => byName.get(type) };
}

export interface FormField {
  /** Key in `data.config`. */
  key: string;
  ui: FieldUi;
  /** The field's JSON Schema (with `anyOf: [X, null]` unwrapped and `$ref`s resolved). */
  schema: JsonSchema;
  required: boolean;
}

/** The fields the inspector draws, in `ui.fields` order. */
export function formFields(info: NodeTypeInfo): FormField[] {
  const properties = isPlainObject(info.configSchema.properties) ? info.configSchema.properties : {};
  const required = Array.isArray(info.configSchema.required) ? (info.configSchema.required as string[]) : [];
  return Object.entries(info.ui.fields)
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([key, ui]) => ({
      key,
      ui,
      schema: fieldSchema(info.configSchema, properties[key]),
      required: required.includes(key),
    }));
}

/** The form field a config key (or an error on it) belongs to: itself or the field that lists it as an alias. */
export function fieldFor(info: NodeTypeInfo, configKey: string): string {
  if (info.ui.fields[configKey]) return configKey;
  const owner = Object.entries(info.ui.fields).find(([, ui]) => ui.aliases.includes(configKey));
  return owner ? owner[0] : configKey;
}

export function labelOf(info: NodeTypeInfo, field: string): string {
  return info.ui.fields[field]?.label ?? humanise(field);
}

export function defaultConfig(info: NodeTypeInfo): Config {
  return structuredClone(info.ui.defaults);
}

/** A new workflow: the catalogue's trigger alone on the canvas, with its id prefix as its id (`start`). */
export function emptyDocument(catalogue: Catalogue): GraphDocument {
  const trigger = catalogue.types.find(isTrigger);
  return {
    nodes: trigger
      ? [{ id: trigger.ui.idPrefix, type: trigger.type, position: { x: 0, y: 0 }, data: { label: trigger.ui.defaultLabel } }]
      : [],
    edges: [],
    meta: { name: DEFAULT_NAME, version: 1 },
  };
}

export const isTrigger = (info: NodeTypeInfo | undefined): boolean => info?.kind === 'trigger';

/** The output handles a node of this type offers with this config, in order. */
export function outputHandles(info: NodeTypeInfo, config: Config): Handle[] {
  const dynamic = info.dynamicOutputs;
  if (!dynamic) return info.outputs;
  if (dynamic.byValue) {
    // A select decides the outputs (a wait: approved/rejected/timeout, or received/timeout). Unset, its default.
    const chosen = config[dynamic.field] ?? info.ui.defaults[dynamic.field];
    return dynamic.byValue[String(chosen)] ?? info.outputs;
  }
  const values = Array.isArray(config[dynamic.field]) ? (config[dynamic.field] as unknown[]) : [];
  const seen = new Set<string>();
  const made: Handle[] = [];
  for (const value of values) {
    const id = String(value);
    // An empty or repeated value is a config error (the server says so); it gets no handle of its own.
    if (id === '' || seen.has(id)) continue;
    seen.add(id);
    made.push({ id, label: id });
  }
  return [...made, ...dynamic.extra.filter((h) => !seen.has(h.id))];
}

/** Whether an edge leaving this node must say which output it leaves from. */
export function hasBranches(info: NodeTypeInfo): boolean {
  return info.dynamicOutputs !== null || info.outputs.length > 1;
}

/**
 * The canvas line under a node's name: `ui.summary` with each `{field}` replaced by its value (a select's by its
 * option label). `a|b`: the first alternative whose fields are all set (`{cron}|every {intervalSeconds} s`).
 */
export function summaryOf(info: NodeTypeInfo, config: Config): string {
  const alternatives = info.ui.summary.split('|');
  const fill = (template: string) => {
    let empty = false;
    const text = template
      .replace(/\{(\w+)\}/g, (_, key: string) => {
        // A field left unset (an older save, an import) takes its declared default, as the server reads it.
        const value = config[key] ?? schemaDefault(info, key);
        const label = typeof value === 'string' ? info.ui.fields[key]?.optionLabels[value] : undefined;
        const shown = label ?? showValue(value);
        if (shown === '') empty = true;
        return shown;
      })
      .replace(/https?:\/\//gi, '')
      .trim();
    return { text, empty };
  };
  const filled = alternatives.map(fill);
  const chosen = filled.find((f) => !f.empty) ?? filled[0]!;
  return chosen.text || (chosen.empty ? 'Not set up yet' : '');
}

/**
 * Fields of which exactly one is set (the config schema's `oneOf` of single-key `required` groups): the form
 * draws them as one choice, so the other is never set beside it.
 */
export function choiceGroups(info: NodeTypeInfo): string[][] {
  const oneOf = Array.isArray(info.configSchema.oneOf) ? info.configSchema.oneOf : [];
  const keys = oneOf.map((branch) =>
    isPlainObject(branch) && Array.isArray(branch.required) && branch.required.length === 1 && Object.keys(branch).length === 1
      ? String(branch.required[0])
      : null,
  );
  return keys.length > 1 && keys.every((k): k is string => k !== null && k in info.ui.fields) ? [keys as string[]] : [];
}

function schemaDefault(info: NodeTypeInfo, key: string): unknown {
  const properties = info.configSchema.properties;
  const property = isPlainObject(properties) ? properties[key] : undefined;
  return isPlainObject(property) ? property.default : undefined;
}

function showValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value)) return value.map(showValue).join(', ');
  if (isPlainObject(value)) return Object.keys(value).join(', ');
  return String(value);
}

/** `maxIntervalMs` → `Max interval (ms)`; pydantic's own titles ("Maxintervalms") read worse. */
export function humanise(key: string): string {
  const unit = /Ms$/.test(key) ? ' (ms)' : '';
  const words = key
    .replace(/Ms$/, '')
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${unit}`;
}

/** A property schema made plain: `$ref` resolved against the root's `$defs`, `anyOf: [X, {type: null}]` → X. */
export function fieldSchema(root: JsonSchema, schema: unknown): JsonSchema {
  let current: JsonSchema = isPlainObject(schema) ? schema : {};
  for (let depth = 0; depth < 8; depth += 1) {
    if (typeof current.$ref === 'string') {
      const name = /^#\/\$defs\/(.+)$/.exec(current.$ref)?.[1];
      const defs = isPlainObject(root.$defs) ? root.$defs : {};
      const target = name ? defs[name] : undefined;
      const { $ref: _ref, ...rest } = current;
      current = { ...(isPlainObject(target) ? target : {}), ...rest };
      continue;
    }
    const union = Array.isArray(current.anyOf) ? current.anyOf : Array.isArray(current.oneOf) ? current.oneOf : null;
    if (union) {
      const options = union.filter((s) => !(isPlainObject(s) && s.type === 'null'));
      if (options.length === 1) {
        const { anyOf: _a, oneOf: _o, ...rest } = current;
        current = { ...rest, ...(options[0] as JsonSchema) };
        continue;
      }
    }
    break;
  }
  return current;
}

/** The options of a select: the field schema's `enum`. */
export function enumOptions(schema: JsonSchema): string[] {
  return Array.isArray(schema.enum) ? schema.enum.map(String) : [];
}
