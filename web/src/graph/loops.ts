// Loop bodies (pure): the steps a `loop` node runs once per item are every node reachable from its `each` output.
// The code editor lists `loop.item` from this, and the canvas can draw a body as a group from the same answer.

/** What finding bodies reads of a graph: a document, or the canvas's nodes and edges as React Flow holds them. */
export interface GraphShape {
  nodes: readonly { id: string; type?: string }[];
  edges: readonly { source: string; target: string; sourceHandle?: string | null }[];
}

/** The node type that repeats its body, and the output its body hangs from (the other, `done`, runs once after). */
export const LOOP_TYPE = 'loop';
export const EACH_HANDLE = 'each';

/** The ids of the nodes in one loop's body: everything reachable from its `each` output, never the loop itself. */
export function loopBody(doc: Pick<GraphShape, 'edges'>, loopId: string): Set<string> {
  const next = new Map<string, string[]>();
  for (const edge of doc.edges) next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  const body = new Set<string>();
  const queue = doc.edges.filter((e) => e.source === loopId && e.sourceHandle === EACH_HANDLE).map((e) => e.target);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (id === loopId || body.has(id)) continue;
    body.add(id);
    queue.push(...(next.get(id) ?? []));
  }
  return body;
}

/** Every loop node's body, by loop id, in document order. */
export function loopBodies(doc: GraphShape): Map<string, Set<string>> {
  return new Map(doc.nodes.filter((n) => n.type === LOOP_TYPE).map((n) => [n.id, loopBody(doc, n.id)]));
}

/**
 * The loops whose body a node is in, outermost first: `[outer, inner]` for a step in a loop inside a loop, so
 * the last one gives it `loop.item` and the one before it `loop.parent`.
 */
export function enclosingLoops(doc: GraphShape, nodeId: string): string[] {
  const bodies = loopBodies(doc);
  const around = [...bodies].filter(([, body]) => body.has(nodeId)).map(([id]) => id);
  // A loop inside another is in its body: the more loops a loop is inside, the further in it is.
  const depth = (id: string) => around.filter((other) => bodies.get(other)?.has(id)).length;
  return around.sort((a, b) => depth(a) - depth(b));
}
