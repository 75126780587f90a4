// Graph algorithms over the document (pure): successors, reachability, cycles, run order.

import type { GraphDocument } from './document';

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

/** Node ids in run order as the server lists steps: wave by wave (every step whose predecessors are all
 * placed), each wave in document order. Nodes on a cycle come last. */
export function topologicalOrder(doc: GraphDocument): string[] {
  const position = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const indegree = new Map(doc.nodes.map((n) => [n.id, 0]));
  const seenEdges = new Set<string>();
  const next = new Map<string, string[]>(doc.nodes.map((n) => [n.id, []]));
  for (const e of doc.edges) {
    const key = `${e.source}\u0000${e.target}`;
    if (!indegree.has(e.target) || !next.has(e.source) || seenEdges.has(key)) continue;
    seenEdges.add(key);
    indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
    next.get(e.source)?.push(e.target);
  }
  const order: string[] = [];
  let wave = doc.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  while (wave.length > 0) {
    order.push(...wave);
    const ready: string[] = [];
    for (const id of wave)
      for (const target of next.get(id) ?? []) {
        const d = (indegree.get(target) ?? 0) - 1;
        indegree.set(target, d);
        if (d === 0) ready.push(target);
      }
    wave = ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  }
  for (const n of doc.nodes) if (!order.includes(n.id)) order.push(n.id);
  return order;
}

/**
 * The last step of the main path: from the root (the trigger, else the first node), follow each step's first
 * outgoing edge until a step with none. Where a careful editor adds the next step when nothing is selected.
 */
export function mainPathLeaf(doc: GraphDocument, rootId?: string): string | null {
  const root = rootId ?? doc.nodes[0]?.id;
  if (root === undefined || !doc.nodes.some((n) => n.id === root)) return null;
  const seen = new Set<string>([root]);
  let at = root;
  for (;;) {
    const next = doc.edges.find((e) => e.source === at && !seen.has(e.target))?.target;
    if (next === undefined) return at;
    seen.add(next);
    at = next;
  }
}
