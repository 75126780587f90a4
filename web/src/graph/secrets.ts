// Secrets typed straight into a workflow: values of sensitive names (headers) that are not {{templates}}, in
// any name/value field (the keyValue widget).
// They are left out of exports and the autosave, and the inspector points to the credential store instead.
// The header words are those of schemas/masking.py, which masks the same headers on the server.

import type { GraphDocument } from './document';
import { isPlainObject } from './document';
import type { Catalogue } from './nodeTypes';

const SENSITIVE = /authorization|x-api-key|cookie|token|secret|password|passwd|key|signature|credential/i;

export function isLiteralSecret(headerName: string, value: unknown): boolean {
  return SENSITIVE.test(headerName) && typeof value === 'string' && value.trim() !== '' && !value.includes('{{');
}

/** The config keys of a node type drawn as name/value rows, where a secret might be typed by hand. */
export function keyValueFields(catalogue: Catalogue, type: string): string[] {
  const info = catalogue.get(type);
  return info ? Object.entries(info.ui.fields).filter(([, ui]) => ui.widget === 'keyValue').map(([key]) => key) : [];
}

/** `value` with every field of a sensitive name emptied at any depth, and how many were: a pin or a sample payload
 * pasted from a real request may carry its Authorization header (the server masks the same on save). */
function withoutSecretFields(value: unknown): { value: unknown; removed: number } {
  if (Array.isArray(value)) {
    let removed = 0;
    const items = value.map((item) => {
      const inner = withoutSecretFields(item);
      removed += inner.removed;
      return inner.value;
    });
    return { value: items, removed };
  }
  if (!isPlainObject(value)) return { value, removed: 0 };
  let removed = 0;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    if (isLiteralSecret(name, field)) {
      out[name] = '';
      removed += 1;
    } else {
      const inner = withoutSecretFields(field);
      out[name] = inner.value;
      removed += inner.removed;
    }
  }
  return { value: out, removed };
}

/** A copy with every literal secret value emptied (in name/value fields, pins and sample payloads), and how many
 * were emptied. */
export function withoutLiteralSecrets(doc: GraphDocument, catalogue: Catalogue): { doc: GraphDocument; removed: number } {
  let removed = 0;
  const copy = structuredClone(doc);
  for (const node of copy.nodes) {
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    for (const key of keyValueFields(catalogue, node.type)) {
      const rows = config[key];
      if (!isPlainObject(rows)) continue;
      for (const [name, value] of Object.entries(rows)) {
        if (isLiteralSecret(name, value)) {
          rows[name] = '';
          removed += 1;
        }
      }
    }
    for (const key of ['pinned', 'samplePayload'] as const) {
      if (node.data[key] === undefined) continue;
      const cleaned = withoutSecretFields(node.data[key]);
      node.data[key] = cleaned.value;
      removed += cleaned.removed;
    }
  }
  return { doc: copy, removed };
}
