import { describe, expect, it } from 'vitest';

import { testCatalogue } from '../api/fake';
import type { GraphDocument } from './document';
import { emptyDocument } from './nodeTypes';
import { isLiteralSecret, withoutLiteralSecrets } from './secrets';
import { exportWithReport } from './convert';

const catalogue = testCatalogue();

function withHeaders(headers: Record<string, string>): GraphDocument {
  const doc = emptyDocument(catalogue);
  doc.nodes.push({
    id: 'call',
    type: 'http',
    position: { x: 200, y: 0 },
    data: { label: 'Call', config: { method: 'GET', url: 'https://x.test', headers } },
  });
  return doc;
}

describe('literal secrets', () => {
  it('are values of sensitive headers that are not templates', () => {
    expect(isLiteralSecret('Authorization', 'Bearer sk_live_1')).toBe(true);
    expect(isLiteralSecret('X-Api-Key', 'abc')).toBe(true);
    expect(isLiteralSecret('Authorization', "Bearer {{ getCredential('t') }}")).toBe(false);
    expect(isLiteralSecret('Content-Type', 'application/json')).toBe(false);
    expect(isLiteralSecret('Authorization', '  ')).toBe(false);
  });

  it('are left out of exports and saves, and counted; the rest is kept', () => {
    const doc = withHeaders({ Authorization: 'Bearer sk_live_1', 'X-Trace': 'keep', Cookie: "{{getCredential('c')}}" });
    const { doc: clean, removed } = withoutLiteralSecrets(doc, catalogue);
    expect(removed).toBe(1);
    const headersOf = (d: GraphDocument) => d.nodes.find((n) => n.id === 'call')?.data.config?.headers;
    expect(headersOf(clean)).toEqual({ Authorization: '', 'X-Trace': 'keep', Cookie: "{{getCredential('c')}}" });
    expect(headersOf(doc)).toMatchObject({ Authorization: 'Bearer sk_live_1' }); // the canvas keeps it
    const exported = exportWithReport(doc, catalogue, new Date('2026-11-21T00:00:00Z'));
    expect(exported.removed).toBe(1);
    expect(JSON.stringify(exported.doc)).not.toContain('sk_live_1');
  });

  it('are emptied in a pin and a sample payload too, at any depth', () => {
    const doc = withHeaders({});
    doc.nodes[0]!.data.samplePayload = { headers: { authorization: 'Bearer sk_live_2' }, body: { id: 1 } };
    doc.nodes[1]!.data.pinned = { status: 200, items: [{ apiKey: 'k_3', name: 'x' }] };
    const { doc: clean, removed } = withoutLiteralSecrets(doc, catalogue);
    expect(removed).toBe(2);
    expect(clean.nodes[0]!.data.samplePayload).toEqual({ headers: { authorization: '' }, body: { id: 1 } });
    expect(clean.nodes[1]!.data.pinned).toEqual({ status: 200, items: [{ apiKey: '', name: 'x' }] });
  });
});
