// The "Error handling" form, read from the server's settings schema (retry policy, onError): one field per
// leaf property, grouped under the object it belongs to, and how a value is read from and written to
// `data.settings` (only what the user set is stored; the server fills in the defaults).

import { isPlainObject } from './document';
import { fieldSchema, humanise, type JsonSchema } from './nodeTypes';
import { SETTINGS } from './validate';

export type SettingKind = 'integer' | 'number' | 'enum' | 'boolean' | 'text';

export interface SettingField {
  /** Where in `data.settings`: `['retry', 'maxAttempts']`. */
  path: string[];
  /** Issue field name: `settings.retry.maxAttempts`. */
  key: string;
  label: string;
  /** The enclosing object's label (`Retry`), if any. */
  group: string | null;
  help: string | null;
  kind: SettingKind;
  schema: JsonSchema;
  options: string[];
  default: unknown;
}

/** Pydantic titles an unnamed field by its name run together ("Maxattempts"); such a title is no label. */
function labelFor(key: string, schema: JsonSchema): string {
  const title = typeof schema.title === 'string' ? schema.title : '';
  const generated = title.replace(/[\s_]/g, '').toLowerCase() === key.replace(/_/g, '').toLowerCase();
  return title && !generated ? title : humanise(key);
}

export function settingFields(root: JsonSchema): SettingField[] {
  const out: SettingField[] = [];
  const walk = (schema: JsonSchema, path: string[], group: string | null) => {
    const properties = isPlainObject(schema.properties) ? schema.properties : {};
    for (const [key, raw] of Object.entries(properties)) {
      const field = fieldSchema(root, raw);
      const here = [...path, key];
      // Labels come from the property itself: a resolved $ref's title is its model's name ("RetryPolicy").
      const own = isPlainObject(raw) ? raw : {};
      if (field.type === 'object' && isPlainObject(field.properties)) {
        walk(field, here, labelFor(key, own));
        continue;
      }
      const options = Array.isArray(field.enum) ? field.enum.map(String) : [];
      const kind: SettingKind =
        options.length > 0
          ? 'enum'
          : field.type === 'integer'
            ? 'integer'
            : field.type === 'number'
              ? 'number'
              : field.type === 'boolean'
                ? 'boolean'
                : 'text';
      out.push({
        path: here,
        key: [SETTINGS, ...here].join('.'),
        label: labelFor(key, own),
        group,
        help: typeof field.description === 'string' ? field.description : null,
        kind,
        schema: field,
        options,
        default: field.default,
      });
    }
  };
  walk(root, [], null);
  return out;
}

export function valueAt(settings: unknown, path: readonly string[]): unknown {
  let current = settings;
  for (const part of path) {
    if (!isPlainObject(current)) return undefined;
    current = current[part];
  }
  return current;
}

/** A copy of `settings` with `path` set (or removed for undefined); objects left empty are removed too.
 * Returns undefined when nothing is left. */
export function withValueAt(
  settings: Record<string, unknown> | undefined,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> | undefined {
  const [head, ...rest] = path;
  if (head === undefined) return settings;
  const copy: Record<string, unknown> = { ...(settings ?? {}) };
  const next = rest.length === 0 ? value : withValueAt(isPlainObject(copy[head]) ? copy[head] : undefined, rest, value);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return Object.keys(copy).length > 0 ? copy : undefined;
}
