// The builder's persisted document: what is exported, autosaved and sent to the API as `graph`.
// It holds no UI state (selection, drag, viewport).

/** A node type name from the server's catalogue (`http`, `if`…), or one it does not know (flagged by checks). */
export type NodeKind = string;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface NodeData {
  label: string;
  config?: Record<string, unknown>;
  /** Retries and onError (the server's settings schema), for node types with `ui.errorHandling`. */
  settings?: Record<string, unknown>;
  /** A webhook's or schedule's sample payload: that trigger's pin (graph/pins.ts). */
  samplePayload?: unknown;
  /** A step's pinned output (graph/pins.ts). */
  pinned?: unknown;
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
  /** Which output of the source the edge leaves from: required from nodes with branches (if, switch). */
  sourceHandle?: string;
  targetHandle?: string;
}

export interface DocMeta {
  name: string;
  /** Workflow version; the server accepts a number or a string. */
  version: number | string;
  description?: string;
  /** The saved workflow that runs when a run of this one fails; sent beside the graph (not in it) when saving. */
  errorWorkflowId?: string;
  /** The inputs its runs take, as a JSON Schema (graph/inputFields.ts); sent beside the graph. */
  inputSchema?: Record<string, unknown>;
  /** Offered as a tool by the MCP server while active; sent beside the graph. */
  exposeAsTool?: boolean;
  exportedAt?: string;
  [key: string]: unknown;
}

export interface GraphDocument {
  nodes: DocNode[];
  edges: DocEdge[];
  meta: DocMeta;
}

export const DEFAULT_NAME = 'Untitled workflow';

type LooseEdge = { id: string; source: string; target: string; sourceHandle?: string | null; targetHandle?: string | null };

/** The document shape of an edge: handles kept when set, React Flow's nulls dropped. */
export function docEdge(edge: LooseEdge): DocEdge {
  const out: DocEdge = { id: edge.id, source: edge.source, target: edge.target };
  if (typeof edge.sourceHandle === 'string') out.sourceHandle = edge.sourceHandle;
  if (typeof edge.targetHandle === 'string') out.targetHandle = edge.targetHandle;
  return out;
}

/** Strips anything a canvas library may have added (selection, measured size…) down to the document shape. */
export function normaliseDocument(doc: {
  nodes: readonly { id: string; type?: string; position: { x: number; y: number }; data: NodeData }[];
  edges: readonly LooseEdge[];
  meta: DocMeta;
}): GraphDocument {
  return {
    nodes: doc.nodes.map((n) => ({
      id: n.id,
      type: n.type ?? '',
      position: { x: n.position.x, y: n.position.y },
      data: n.data,
    })),
    edges: doc.edges.map(docEdge),
    meta: doc.meta,
  };
}

/** A new id `<prefix>_<n>` (`http_1`, `if_2`), the lowest n not taken. */
export function nextId(prefix: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let i = 1; ; i += 1) {
    const candidate = `${prefix}_${i}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Whether `{{steps.<id>…}}` can name the step with a dot; otherwise it takes `{{steps['<id>']…}}`. */
export const isIdentifier = (id: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(id);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
