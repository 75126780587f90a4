// The builder's persisted document: what is exported, autosaved and sent to the API as `graph`.
// It holds no UI state (selection, drag, viewport).

export type NodeKind = 'start' | 'http';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface NodeData {
  label: string;
  config?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DocNode {
  id: string;
  type: NodeKind;
  position: { x: number; y: number };
  data: NodeData;
}

export interface DocEdge {
  id: string;
  source: string;
  target: string;
}

export interface DocMeta {
  name: string;
  /** Workflow version; the server accepts a number or a string. */
  version: number | string;
  description?: string;
  exportedAt?: string;
  [key: string]: unknown;
}

export interface GraphDocument {
  nodes: DocNode[];
  edges: DocEdge[];
  meta: DocMeta;
}

export const DEFAULT_NAME = 'Untitled workflow';

export function emptyDocument(): GraphDocument {
  return {
    nodes: [{ id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } }],
    edges: [],
    meta: { name: DEFAULT_NAME, version: 1 },
  };
}

/** Strips anything a canvas library may have added (selection, measured size…) down to the document shape. */
export function normaliseDocument(doc: {
  nodes: readonly { id: string; type?: string; position: { x: number; y: number }; data: NodeData }[];
  edges: readonly { id: string; source: string; target: string }[];
  meta: DocMeta;
}): GraphDocument {
  return {
    nodes: doc.nodes.map((n) => ({
      id: n.id,
      type: (n.type ?? 'http') as NodeKind,
      position: { x: n.position.x, y: n.position.y },
      data: n.data,
    })),
    edges: doc.edges.map((e) => ({ id: e.id, source: e.source, target: e.target })),
    meta: doc.meta,
  };
}

/** Unique id with a readable prefix, e.g. `http-3`. */
export function nextId(prefix: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i += 1) {
    const candidate = `${prefix}-${i}`;
    if (!used.has(candidate)) return candidate;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
