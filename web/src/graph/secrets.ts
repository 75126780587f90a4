// Secrets typed straight into a workflow: header values of sensitive headers that are not {{templates}}.
// They are left out of exports and the autosave, and the inspector points to the credential store instead.
// The header words are those of schemas/masking.py, which masks the same headers on the server.

import type { GraphDocument } from './document';
import { isPlainObject } from './document';

const SENSITIVE = /authorization|x-api-key|cookie|token|secret|password|passwd|key|signature|credential/i;

export function isLiteralSecret(headerName: string, value: unknown): boolean {
  return SENSITIVE.test(headerName) && typeof value === 'string' && value.trim() !== '' && !value.includes('{{');
}

/** A copy with every literal secret header value emptied, and how many were emptied. */
export function withoutLiteralSecrets(doc: GraphDocument): { doc: GraphDocument; removed: number } {
  let removed = 0;
  const copy = structuredClone(doc);
  for (const node of copy.nodes) {
    const headers = isPlainObject(node.data.config) ? node.data.config.headers : undefined;
    if (!isPlainObject(headers)) continue;
    for (const [name, value] of Object.entries(headers)) {
      if (isLiteralSecret(name, value)) {
        headers[name] = '';
        removed += 1;
      }
    }
  }
  return { doc: copy, removed };
}
