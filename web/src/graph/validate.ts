// Client-side graph checks (pure). The server repeats them; these give instant feedback while editing.

import type { FieldError } from '../api/types';
import { isPlainObject, type GraphDocument } from './document';
import { definitionOf, parameterFor } from './nodeTypes';

export interface Issue {
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Config key (`url`, `headers`…) or `label`; absent for node- or graph-level problems. */
  field?: string;
  source: 'client' | 'server';
}

/** Per node, per field: text the user typed that does not parse yet (e.g. half-written JSON). */
export type DraftErrors = Record<string, Record<string, string>>;

export function validateGraph(doc: GraphDocument, drafts: DraftErrors = {}): Issue[] {
  const issues: Issue[] = [];
  const add = (issue: Omit<Issue, 'source'>) => issues.push({ ...issue, source: 'client' });

  const ids = new Set<string>();
  for (const node of doc.nodes) {
    if (ids.has(node.id)) add({ nodeId: node.id, message: `Two steps share the id “${node.id}”` });
    ids.add(node.id);
  }

  const starts = doc.nodes.filter((n) => n.type === 'start');
  if (starts.length === 0) add({ message: 'Add a Start node' });
  if (starts.length > 1) {
    for (const extra of starts.slice(1)) add({ nodeId: extra.id, message: 'Only one Start node is allowed' });
  }

  for (const node of doc.nodes) {
    const definition = definitionOf(node.type);
    if (!definition) {
      add({ nodeId: node.id, message: `Unknown node type “${String(node.type)}”` });
      continue;
    }
    if (node.type !== 'start' && (typeof node.data.label !== 'string' || node.data.label.trim() === '')) {
      add({ nodeId: node.id, field: 'label', message: 'Give this step a name' });
    }
    if (definition.parameters.length === 0) continue;
    const config = isPlainObject(node.data.config) ? node.data.config : {};
    if (node.data.config !== undefined && !isPlainObject(node.data.config)) {
      add({ nodeId: node.id, message: 'Configuration must be an object' });
    }
    for (const parameter of definition.parameters) {
      const draft = drafts[node.id]?.[parameter.key];
      const message = draft ?? parameter.validate?.(config[parameter.key], config) ?? null;
      if (message) add({ nodeId: node.id, field: parameter.key, message });
    }
    for (const [key, message] of Object.entries(drafts[node.id] ?? {})) {
      if (!parameterFor(definition, key)) add({ nodeId: node.id, field: key, message });
    }
  }

  for (const edge of doc.edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target)) {
      add({ edgeId: edge.id, message: 'A connection points to a step that no longer exists' });
    } else if (edge.source === edge.target) {
      add({ edgeId: edge.id, nodeId: edge.source, message: 'A step cannot connect to itself' });
    } else if (doc.nodes.find((n) => n.id === edge.target)?.type === 'start') {
      add({ edgeId: edge.id, nodeId: edge.target, message: 'Nothing can connect into the Start node' });
    }
  }

  const cycleAt = findCycle(doc);
  if (cycleAt) add({ nodeId: cycleAt, message: 'Connections form a loop; workflows must flow one way' });

  const start = starts[0];
  if (start && starts.length === 1) {
    const reachable = reachableFrom(doc, start.id);
    for (const node of doc.nodes) {
      if (!reachable.has(node.id)) add({ nodeId: node.id, message: 'Not connected to Start' });
    }
    if (doc.nodes.length === 1) add({ message: 'Add an HTTP Request step after Start' });
  }
  return issues;
}

function successors(doc: GraphDocument): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const node of doc.nodes) next.set(node.id, []);
  for (const edge of doc.edges) next.get(edge.source)?.push(edge.target);
  return next;
}

export function reachableFrom(doc: GraphDocument, rootId: string): Set<string> {
  const next = successors(doc);
  const seen = new Set<string>([rootId]);
  const queue = [rootId];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const target of next.get(id) ?? []) {
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}

/** First node (in document order) found on a cycle, or null. */
export function findCycle(doc: GraphDocument): string | null {
  const next = successors(doc);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string): string | null => {
    state.set(id, 'open');
    for (const target of next.get(id) ?? []) {
      const s = state.get(target);
      if (s === 'open') return target;
      if (s === undefined) {
        const found = visit(target);
        if (found) return found;
      }
    }
    state.set(id, 'done');
    return null;
  };
  for (const node of doc.nodes) {
    if (!state.has(node.id)) {
      const found = visit(node.id);
      if (found) return found;
    }
  }
  return null;
}

/** Node ids in an order where every step comes after the steps it depends on (ties by document order). */
export function topologicalOrder(doc: GraphDocument): string[] {
  const indegree = new Map(doc.nodes.map((n) => [n.id, 0]));
  for (const e of doc.edges) if (indegree.has(e.target)) indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
  const next = successors(doc);
  const ready = doc.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(id);
    for (const target of next.get(id) ?? []) {
      const d = (indegree.get(target) ?? 0) - 1;
      indegree.set(target, d);
      if (d === 0) ready.push(target);
    }
  }
  for (const n of doc.nodes) if (!order.includes(n.id)) order.push(n.id);
  return order;
}

const NODE_FIELD = /^graph\.nodes\[(\d+)\](?:\.data(?:\.config)?\.([A-Za-z_][\w]*))?/;
const EDGE_FIELD = /^graph\.edges\[(\d+)\]/;

/** Maps a 422 `fields` list (paths like `graph.nodes[1].data.config.url`) onto nodes and inspector fields. */
export function issuesFromServer(doc: GraphDocument, fields: readonly FieldError[]): Issue[] {
  return fields.map((f) => {
    const issue: Issue = { message: f.reason, source: 'server' };
    const nodeMatch = NODE_FIELD.exec(f.field);
    const edgeMatch = EDGE_FIELD.exec(f.field);
    const nodeId = f.nodeId ?? (nodeMatch ? doc.nodes[Number(nodeMatch[1])]?.id : undefined);
    if (nodeId) issue.nodeId = nodeId;
    const edgeId = f.edgeId ?? (edgeMatch ? doc.edges[Number(edgeMatch[1])]?.id : undefined);
    if (edgeId) issue.edgeId = edgeId;
    if (nodeMatch?.[2]) {
      const node = doc.nodes.find((n) => n.id === nodeId);
      const definition = node ? definitionOf(node.type) : undefined;
      const key = nodeMatch[2];
      issue.field = key === 'label' ? 'label' : (definition && parameterFor(definition, key)?.key) ?? key;
    }
    return issue;
  });
}

/** Client issues first; a server issue on the same node and field as a client one is redundant. */
export function mergeIssues(client: readonly Issue[], server: readonly Issue[]): Issue[] {
  const covered = new Set(client.map((i) => `${i.nodeId ?? ''}|${i.field ?? ''}`));
  return [...client, ...server.filter((i) => !covered.has(`${i.nodeId ?? ''}|${i.field ?? ''}`))];
}

/** One line a creator can act on, naming the step by its label. */
export function describeIssue(issue: Issue, doc: GraphDocument): string {
  const node = issue.nodeId ? doc.nodes.find((n) => n.id === issue.nodeId) : undefined;
  const name = node ? node.data.label || definitionOf(node.type)?.title || node.id : undefined;
  return name ? `${name}: ${issue.message}` : issue.message;
}
