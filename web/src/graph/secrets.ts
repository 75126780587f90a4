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

/** A copy with every literal secret value emptied, and how many were emptied. */
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
  }
  return { doc: copy, removed };
}
