// Where a step added from the palette goes (pure): right of the step it follows, then down past whatever is there,
// steps as tall as they are drawn (an If with its outputs is taller than a plain step) and the regions of loops
// whose body it is not in, so a step after a loop's `done` never lands inside the loop's body.

import { DEFAULT_NODE_SIZE, loopGroups, type Box, type PlacedGraph, type SizeOf } from './loopGroups';
import { loopBodies } from './loops';

/** Room kept between a new step and what is around it; more below a loop's body, which grows when a run adds
 * status lines to its steps. */
export const PLACE_GAP = 30;
export const REGION_GAP = 60;
const GRID = 10;

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * The first free place at or below `start` for node `id` (already in `doc`, with its edge, so which loop bodies
 * it joins is known).
 */
export function freeSpot(doc: PlacedGraph, id: string, start: { x: number; y: number }, sizeOf: SizeOf): { x: number; y: number } {
  const others = doc.nodes.filter((n) => n.id !== id);
  const joins = new Set([...loopBodies(doc)].filter(([, body]) => body.has(id)).map(([loopId]) => loopId));
  const before = { nodes: others, edges: doc.edges.filter((e) => e.source !== id && e.target !== id) };
  const obstacles: Box[] = [
    ...others.map((n) => ({ ...n.position, ...(sizeOf(n.id) ?? DEFAULT_NODE_SIZE) })),
    ...loopGroups(before, sizeOf)
      .filter((g) => !joins.has(g.loopId))
      .map((g) => ({ x: g.x, y: g.y, width: g.width, height: g.height + REGION_GAP - PLACE_GAP })),
  ];
  const size = sizeOf(id) ?? DEFAULT_NODE_SIZE;
  const place = { ...start };
  // Each move goes below something in the way, so this ends after at most one move per obstacle.
  for (let moves = 0; moves <= obstacles.length; moves += 1) {
    const here = { x: place.x - PLACE_GAP, y: place.y - PLACE_GAP, width: size.width + 2 * PLACE_GAP, height: size.height + 2 * PLACE_GAP };
    const blocking = obstacles.filter((o) => overlaps(here, o));
    if (blocking.length === 0) break;
    const below = Math.max(...blocking.map((o) => o.y + o.height)) + PLACE_GAP;
    place.y = Math.ceil(below / GRID) * GRID;
  }
  return place;
}
