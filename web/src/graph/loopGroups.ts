// Where the canvas draws each loop's body (pure): a region around the body's nodes, drawn behind them and computed
// from where they are, so nodes stay free to move and the saved graph gains no group or parent node.

import { loopBodies, type GraphShape } from './loops';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LoopGroup extends Box {
  loopId: string;
  /** How many loops this one is inside: 0 for an outer loop. */
  depth: number;
}

/** A graph whose nodes have places: a document, or the canvas's nodes as React Flow holds them. */
export interface PlacedGraph extends GraphShape {
  nodes: readonly { id: string; type?: string; position: { x: number; y: number } }[];
}

export type SizeOf = (nodeId: string) => { width: number; height: number } | undefined;

/** Around the body's nodes, and more above them for the region's label. */
export const GROUP_PAD = 20;
export const GROUP_LABEL = 26;
/** A node not measured yet (just added, or drawn before React Flow measured it) counts as a step's usual size. */
export const DEFAULT_NODE_SIZE = { width: 220, height: 80 };

function union(boxes: readonly Box[]): Box | null {
  if (boxes.length === 0) return null;
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const b of boxes) {
    left = Math.min(left, b.x);
    top = Math.min(top, b.y);
    right = Math.max(right, b.x + b.width);
    bottom = Math.max(bottom, b.y + b.height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * One region per loop with a body, outermost first (the order to draw them in, so inner ones show on top). A
 * region holds its body's nodes and the regions of the loops inside it, so nested loops nest.
 */
export function loopGroups(doc: PlacedGraph, sizeOf: SizeOf): LoopGroup[] {
  const bodies = loopBodies(doc);
  const loops = [...bodies].filter(([, body]) => body.size > 0).map(([id]) => id);
  const depth = new Map(loops.map((id) => [id, loops.filter((other) => other !== id && bodies.get(other)!.has(id)).length]));
  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const boxes = new Map<string, Box>();
  // Innermost first: a loop's region needs the regions of the loops in its body.
  for (const loopId of [...loops].sort((a, b) => depth.get(b)! - depth.get(a)!)) {
    const body = bodies.get(loopId)!;
    const inside: Box[] = [];
    for (const id of body) {
      const node = nodes.get(id);
      if (!node) continue;
      const size = sizeOf(id) ?? DEFAULT_NODE_SIZE;
      inside.push({ x: node.position.x, y: node.position.y, width: size.width, height: size.height });
      const nested = boxes.get(id);
      if (nested) inside.push(nested);
    }
    const around = union(inside);
    if (!around) continue;
    boxes.set(loopId, {
      x: around.x - GROUP_PAD,
      y: around.y - GROUP_PAD - GROUP_LABEL,
      width: around.width + 2 * GROUP_PAD,
      height: around.height + 2 * GROUP_PAD + GROUP_LABEL,
    });
  }
  return loops
    .filter((id) => boxes.has(id))
    .map((loopId) => ({ loopId, depth: depth.get(loopId)!, ...boxes.get(loopId)! }))
    .sort((a, b) => a.depth - b.depth);
}
