import { describe, expect, it } from 'vitest';
import type { GraphDocument } from './document';
import { findCycle, issuesFromServer, mergeIssues, validateGraph } from './validate';

const doc = (): GraphDocument => ({
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
    { id: 'a', type: 'http', position: { x: 1, y: 0 }, data: { label: 'A', config: { method: 'GET', url: 'https://a.example' } } },
    { id: 'b', type: 'http', position: { x: 2, y: 0 }, data: { label: 'B', config: { method: 'GET', url: 'https://b.example' } } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'a' },
    { id: 'e2', source: 'a', target: 'b' },
  ],
  meta: { name: 'w', version: 1 },
});

describe('validateGraph', () => {
  it('accepts a valid graph', () => {
    expect(validateGraph(doc())).toEqual([]);
  });

  it('flags field problems on the right node and field', () => {
    const d = doc();
    d.nodes[1]!.data.config = { method: 'FETCH', url: 'a.example', timeoutMs: 0, headers: { 'bad name': 'x' }, body: 'x', json_body: {} };
    const byField = Object.fromEntries(validateGraph(d).map((i) => [i.field, i.nodeId]));
    expect(byField).toEqual({ method: 'a', url: 'a', timeoutMs: 'a', headers: 'a', json_body: 'a' });
  });

  it('finds cycles, unreachable nodes and extra start nodes', () => {
    const d = doc();
    d.edges.push({ id: 'e3', source: 'b', target: 'a' });
    expect(findCycle(d)).toBe('a');
    d.nodes.push({ id: 'c', type: 'http', position: { x: 0, y: 0 }, data: { label: 'C', config: { url: 'https://c' } } });
    d.nodes.push({ id: 's2', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } });
    const messages = validateGraph(d).map((i) => `${i.nodeId}: ${i.message}`);
    expect(messages).toContain('a: Connections form a loop; workflows must flow one way');
    expect(messages).toContain('s2: Only one Start node is allowed');
  });

  it('reports drafts that do not parse yet', () => {
    expect(validateGraph(doc(), { a: { json_body: 'Invalid JSON' } })).toEqual([
      { nodeId: 'a', field: 'json_body', message: 'Invalid JSON', source: 'client' },
    ]);
  });
});

describe('server errors', () => {
  it('maps 422 field paths to nodes and inspector fields', () => {
    const issues = issuesFromServer(doc(), [
      { field: 'graph.nodes[2].data.config.url', reason: 'must start with http:// or https://', nodeId: null, edgeId: null },
      { field: 'graph.nodes[1].data.config.body', reason: 'not both', nodeId: 'a', edgeId: null },
      { field: 'graph.nodes[1].data.label', reason: 'too long', nodeId: null, edgeId: null },
      { field: 'graph.edges[1]', reason: 'cycle', nodeId: null, edgeId: null },
      { field: 'graph', reason: 'no start', nodeId: null, edgeId: null },
    ]);
    expect(issues).toEqual([
      { message: 'must start with http:// or https://', nodeId: 'b', field: 'url', source: 'server' },
      { message: 'not both', nodeId: 'a', field: 'json_body', source: 'server' },
      { message: 'too long', nodeId: 'a', field: 'label', source: 'server' },
      { message: 'cycle', edgeId: 'e2', source: 'server' },
      { message: 'no start', source: 'server' },
    ]);
  });

  it('prefers the client message when both flag the same field', () => {
    const client = [{ nodeId: 'b', field: 'url', message: 'URL is required', source: 'client' as const }];
    const server = [
      { nodeId: 'b', field: 'url', message: 'field required', source: 'server' as const },
      { nodeId: 'b', field: 'headers', message: 'bad header', source: 'server' as const },
    ];
    expect(mergeIssues(client, server).map((i) => i.message)).toEqual(['URL is required', 'bad header']);
  });
});
