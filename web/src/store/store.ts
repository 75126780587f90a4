// The builder's state: the graph on the canvas, its undo history, issues, the current run and toasts.
// Created by a factory so tests and the app each get their own; components read it through selector hooks.

import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from '@xyflow/react';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { reachableFrom } from '../graph/algorithms';
import { docEdge, isPlainObject, nextId, normaliseDocument, type DocMeta, type GraphDocument, type NodeData, type NodeKind } from '../graph/document';
import { defaultConfig, emptyDocument, hasBranches, isTrigger, outputHandles, type Catalogue } from '../graph/nodeTypes';
import { freeSpot } from '../graph/placement';
import { withValueAt } from '../graph/settings';
import { isRunInput } from '../graph/variables';
import { mergeIssues, validateGraph, type DraftErrors, type Issue } from '../graph/validate';
import type { Credential } from '../api/types';
import { emptyHistory, record, redo, undo, type History } from './history';
import { createRunSlice, type RunSlice } from './runSlice';

export type FlowNode = Node<NodeData, NodeKind>;
export type FlowEdge = Edge;

export type ToastKind = 'info' | 'success' | 'error';
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

/** Stored credentials as the server lists them: names and masked values, never a secret. */
export interface CredentialList {
  status: 'idle' | 'loading' | 'ready' | 'error';
  items: Credential[];
  message?: string;
}

/** Where the last server validation of the canvas stands: only `ok` lets the checks say "Ready to run". */
export type ServerCheck = 'pending' | 'ok' | 'invalid' | 'unavailable';
export type InspectorTab = 'config' | 'run';

export interface BuilderState extends History, RunSlice {
  /** The node types the server declares; fixed for the store's life. */
  catalogue: Catalogue;
  nodes: FlowNode[];
  edges: FlowEdge[];
  meta: DocMeta;
  /** Bumped on every document change (not on selection), so effects know when to save or re-validate. */
  docVersion: number;
  /** Bumped when a whole document replaces the canvas (open, import, new), so the canvas fits it to view. */
  documentLoads: number;
  drafts: DraftErrors;
  serverIssues: Issue[];
  serverCheck: ServerCheck;
  /** Which face of a selected step the inspector shows: its form, or what happened in the last run. */
  inspectorTab: InspectorTab;
  toasts: Toast[];
  historyOpen: boolean;
  runPanelOpen: boolean;
  /** In a narrow window (≤ 1000 px) the inspector folds to a strip, giving the canvas the room. */
  inspectorCollapsed: boolean;
  credentials: CredentialList;
  credentialsOpen: boolean;
  /** A name to start adding when the drawer opens (from "Add it" beside an undefined credential). */
  credentialToAdd: string | null;
  /** Input paths the run form asks for while it is open; null when closed. */
  inputsPrompt: string[] | null;
  /** The run inputs the server reported for the document it last validated (`databaseId`, `payload.title`). */
  runInputs: string[];
  /** Values last typed in the run form, by path. In memory only: a reload forgets them. */
  lastInputs: Record<string, string>;

  onNodesChange: (changes: NodeChange<FlowNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<FlowEdge>[]) => void;
  onConnect: (connection: Connection) => void;
  addNode: (type: NodeKind, options?: { position?: { x: number; y: number }; connectFrom?: string }) => string;
  deleteSelection: () => void;
  /**
   * Puts a trigger of `type` where the trigger `nodeId` is (or, with null, adds one before the first step),
   * keeping its outgoing edges: changing how a workflow starts never means deleting and reconnecting.
   */
  replaceTrigger: (nodeId: string | null, type: NodeKind) => string;
  selectOnly: (nodeId: string | null) => void;
  setLabel: (nodeId: string, label: string) => void;
  /** Sets config keys of one node; `undefined` removes a key. */
  setConfig: (nodeId: string, patch: Record<string, unknown>) => void;
  /** A webhook or schedule trigger's sample payload, for manual runs; `undefined` removes it. */
  setSamplePayload: (nodeId: string, sample: unknown) => void;
  /** A step's pinned output (`data.pinned`); undefined unpins it. */
  setPinned: (nodeId: string, output: unknown) => void;
  /** Sets one value of `data.settings` at `path`; `undefined` removes it (and objects left empty). */
  setSetting: (nodeId: string, path: readonly string[], value: unknown) => void;
  /** Sets the workflow's name, description, error workflow…; `undefined` removes a key. */
  setMeta: (patch: Partial<DocMeta>) => void;
  undo: () => void;
  redo: () => void;
  loadDocument: (doc: GraphDocument) => void;
  setDraftError: (nodeId: string, field: string, message: string | null) => void;
  setServerIssues: (issues: Issue[]) => void;
  setServerCheck: (check: ServerCheck) => void;
  setRunInputs: (inputs: string[]) => void;
  setInspectorTab: (tab: InspectorTab) => void;
  pushToast: (kind: ToastKind, text: string) => number;
  dismissToast: (id: number) => void;
  setHistoryOpen: (open: boolean) => void;
  setRunPanelOpen: (open: boolean) => void;
  setInspectorCollapsed: (collapsed: boolean) => void;
  setCredentials: (credentials: CredentialList) => void;
  setCredentialsOpen: (open: boolean, addName?: string) => void;
  setInputsPrompt: (paths: string[] | null) => void;
  rememberInputs: (values: Record<string, string>) => void;
}

export type BuilderStore = StoreApi<BuilderState>;

export interface StoreOptions {
  catalogue: Catalogue;
  initial?: GraphDocument;
  /** Clock for coalescing rapid edits of one field into one undo step. */
  now?: () => number;
}

/** Consecutive edits of the same field closer than this become one undo step. */
export const COALESCE_MS = 1000;
const SPACING_X = 280;

export function documentOf(state: Pick<BuilderState, 'nodes' | 'edges' | 'meta'>): GraphDocument {
  return normaliseDocument(state);
}

/** Names of the stored credentials once listed, else null (then names are not checked). */
export function knownCredentials(state: BuilderState): string[] | null {
  return state.credentials.status === 'ready' ? state.credentials.items.map((c) => c.name) : null;
}

/** Every check of the canvas: the client's (shape, schemas, templates, credentials) and the server's last verdict. */
export function issuesOf(state: BuilderState): Issue[] {
  const doc = documentOf(state);
  const client = validateGraph(doc, state.catalogue, { drafts: state.drafts, credentials: knownCredentials(state) });
  return mergeIssues(client, state.serverIssues);
}


function toFlow(doc: GraphDocument, selected: ReadonlySet<string> = new Set()) {
  const nodes: FlowNode[] = doc.nodes.map((n) => ({
    id: n.id,
    type: n.type,
    position: { ...n.position },
    data: n.data,
    selected: selected.has(n.id),
  }));
  const edges: FlowEdge[] = doc.edges.map((e) => ({ ...docEdge(e) }));
  return { nodes, edges, meta: doc.meta };
}

export interface Link {
  source: string | null;
  target: string | null;
  sourceHandle?: string | null;
}

/** The output an edge from `source` records: its handle when the node branches; none for a single output. */
export function handleFor(doc: GraphDocument, catalogue: Catalogue, source: string, handle: string | null | undefined): string | undefined {
  const node = doc.nodes.find((n) => n.id === source);
  const info = node ? catalogue.get(node.type) : undefined;
  if (!node || !info || !hasBranches(info)) return undefined;
  const offered = outputHandles(info, isPlainObject(node.data.config) ? node.data.config : {}).map((h) => h.id);
  if (handle && offered.includes(handle)) return handle;
  // Not said (a click in the palette): the first output nothing leaves from yet.
  return offered.find((id) => !doc.edges.some((e) => e.source === source && e.sourceHandle === id)) ?? offered[0];
}

/** Why connecting source → target is refused, in words for the user; null when it may be made. */
export function refusedConnection(doc: GraphDocument, catalogue: Catalogue, link: Link): string | null {
  const { source, target } = link;
  if (!source || !target) return 'Connect a step’s output to another step’s input';
  if (source === target) return 'A step cannot connect to itself';
  const targetNode = doc.nodes.find((n) => n.id === target);
  const targetInfo = targetNode ? catalogue.get(targetNode.type) : undefined;
  const name = (id: string) => doc.nodes.find((n) => n.id === id)?.data.label || id;
  if (!targetNode || !doc.nodes.some((n) => n.id === source)) return 'That step no longer exists';
  if (targetInfo && targetInfo.inputs.length === 0) return `${name(target)} starts the workflow: nothing connects into it`;
  const handle = handleFor(doc, catalogue, source, link.sourceHandle);
  if (doc.edges.some((e) => e.source === source && e.target === target && e.sourceHandle === handle))
    return `${name(source)} is already connected to ${name(target)}`;
  if (reachableFrom(doc, target).has(source))
    return `Not connected: ${name(source)} already runs after ${name(target)}, so this would make a loop`;
  return null;
}

/** Whether connecting source → target keeps the graph a one-way flow out of its trigger. */
export function canConnect(doc: GraphDocument, catalogue: Catalogue, link: Link): boolean {
  return refusedConnection(doc, catalogue, link) === null;
}

function edgeId(source: string, handle: string | undefined, target: string, taken: readonly string[]): string {
  const base = handle === undefined ? `e-${source}-${target}` : `e-${source}-${handle}-${target}`;
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i += 1) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

/**
 * Edges after a branching node's outputs changed (a switch's cases edited): an edge on a renamed output
 * follows it (same place in the list, same number of outputs); an edge on an output that is gone is removed.
 */
export function followHandles(edges: FlowEdge[], nodeId: string, before: readonly string[], after: readonly string[]): FlowEdge[] {
  if (before.join('\u0000') === after.join('\u0000')) return edges;
  return edges.flatMap((edge) => {
    if (edge.source !== nodeId || !edge.sourceHandle || after.includes(edge.sourceHandle)) return [edge];
    const at = before.indexOf(edge.sourceHandle);
    const renamed = at !== -1 && before.length === after.length ? after[at] : undefined;
    return renamed === undefined ? [] : [{ ...edge, sourceHandle: renamed }];
  });
}

export function createBuilderStore(options: StoreOptions): BuilderStore {
  const { catalogue } = options;
  const now = options.now ?? Date.now;
  let lastEdit: { key: string; at: number } | null = null;
  let dragStart: GraphDocument | null = null;
  let toastCounter = 0;

  return createStore<BuilderState>()((set, get) => {
    /** Applies a document change, remembering the previous document unless it continues the same edit. */
    const commit = (patch: Partial<BuilderState>, coalesceKey?: string) => {
      const state = get();
      const at = now();
      const continues = coalesceKey !== undefined && lastEdit?.key === coalesceKey && at - lastEdit.at < COALESCE_MS;
      lastEdit = coalesceKey === undefined ? null : { key: coalesceKey, at };
      const history = continues ? { past: state.past, future: [] } : record(state, documentOf(state));
      set({ ...patch, ...history, docVersion: state.docVersion + 1 });
    };

    const restore = (doc: GraphDocument, history: History) => {
      const state = get();
      const selected = new Set(state.nodes.filter((n) => n.selected).map((n) => n.id));
      lastEdit = null;
      dragStart = null;
      set({ ...toFlow(doc, selected), ...history, docVersion: state.docVersion + 1, serverIssues: [] });
    };

    const updateNodeData = (nodeId: string, update: (data: NodeData) => NodeData, coalesceKey: string) => {
      const state = get();
      if (!state.nodes.some((n) => n.id === nodeId)) return;
      commit({ nodes: state.nodes.map((n) => (n.id === nodeId ? { ...n, data: update(n.data) } : n)) }, coalesceKey);
    };

    return {
      catalogue,
      ...toFlow(options.initial ?? emptyDocument(catalogue)),
      ...emptyHistory(),
      docVersion: 0,
      documentLoads: 0,
      drafts: {},
      serverIssues: [],
      serverCheck: 'pending',
      inspectorTab: 'config',
      ...createRunSlice(set, get),
      toasts: [],
      historyOpen: false,
      runPanelOpen: false,
      inspectorCollapsed: false,
      credentials: { status: 'idle', items: [] },
      credentialsOpen: false,
      credentialToAdd: null,
      inputsPrompt: null,
      runInputs: [],
      lastInputs: {},

      onNodesChange: (changes) => {
        const state = get();
        const positions = changes.filter((c) => c.type === 'position');
        const structural = changes.some((c) => c.type === 'remove' || c.type === 'add' || c.type === 'replace');
        const nodes = applyNodeChanges(changes, state.nodes);
        if (structural) {
          const ids = new Set(nodes.map((n) => n.id));
          const edges = state.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
          commit({ nodes, edges });
          return;
        }
        if (positions.length === 0) {
          set({ nodes });
          return;
        }
        if (positions.some((c) => c.dragging)) {
          // Mid-drag: move without recording; remember where the drag began.
          dragStart ??= documentOf(state);
          set({ nodes, docVersion: state.docVersion + 1 });
          return;
        }
        if (dragStart) {
          // Drag stop: one undo step for the whole drag.
          const before = dragStart;
          dragStart = null;
          lastEdit = null;
          set({ nodes, ...record(state, before), docVersion: state.docVersion + 1 });
          return;
        }
        commit({ nodes }, 'nudge');
      },

      onEdgesChange: (changes) => {
        const state = get();
        const edges = applyEdgeChanges(changes, state.edges);
        if (changes.some((c) => c.type !== 'select')) commit({ edges });
        else set({ edges });
      },

      onConnect: (connection) => {
        const state = get();
        const doc = documentOf(state);
        const { source, target } = connection;
        if (!canConnect(doc, catalogue, connection)) return;
        const handle = handleFor(doc, catalogue, source, connection.sourceHandle);
        const edge: FlowEdge = { id: edgeId(source, handle, target, state.edges.map((e) => e.id)), source, target };
        if (handle !== undefined) edge.sourceHandle = handle;
        commit({ edges: [...state.edges, edge] });
      },

      addNode: (type, opts = {}) => {
        const state = get();
        const info = catalogue.get(type);
        if (!info) return '';
        const ids = state.nodes.map((n) => n.id);
        // The one trigger keeps the plain id a new workflow gives it (`start`); every other node is <prefix>_<n>.
        const id = isTrigger(info) && !ids.includes(info.ui.idPrefix) ? info.ui.idPrefix : nextId(info.ui.idPrefix, ids);
        const anchor =
          (opts.connectFrom ? state.nodes.find((n) => n.id === opts.connectFrom) : undefined) ?? state.nodes.at(-1);
        const position = opts.position ?? (anchor ? { x: anchor.position.x + SPACING_X, y: anchor.position.y } : { x: 0, y: 0 });
        const hasConfig = Object.keys(info.ui.fields).length > 0 || Object.keys(info.ui.defaults).length > 0;
        const data: NodeData = hasConfig
          ? { label: uniqueLabel(info.ui.defaultLabel, state.nodes), config: defaultConfig(info) }
          : { label: uniqueLabel(info.ui.defaultLabel, state.nodes) };
        const node: FlowNode = { id, type: info.type, position, data, selected: true };
        const nodes = [...state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
        let edges = state.edges.map((e) => (e.selected ? { ...e, selected: false } : e));
        const doc = documentOf({ nodes, edges, meta: state.meta });
        if (opts.connectFrom && canConnect(doc, catalogue, { source: opts.connectFrom, target: id })) {
          const handle = handleFor(doc, catalogue, opts.connectFrom, undefined);
          const edge: FlowEdge = { id: edgeId(opts.connectFrom, handle, id, edges.map((e) => e.id)), source: opts.connectFrom, target: id };
          if (handle !== undefined) edge.sourceHandle = handle;
          edges = [...edges, edge];
        }
        if (!opts.position) {
          // Clear of the steps there (as tall as they are drawn) and of loop bodies it does not join.
          const sizes = new Map(nodes.map((n) => [n.id, n.measured]));
          const sizeOf = (nodeId: string) => {
            const size = sizes.get(nodeId);
            return size?.width && size.height ? { width: size.width, height: size.height } : undefined;
          };
          const place = freeSpot({ nodes, edges }, id, position, sizeOf);
          if (place.y !== position.y) node.position = place;
        }
        commit({ nodes, edges });
        return id;
      },

      deleteSelection: () => {
        const state = get();
        const removed = new Set(state.nodes.filter((n) => n.selected).map((n) => n.id));
        const nodes = state.nodes.filter((n) => !removed.has(n.id));
        const edges = state.edges.filter((e) => !e.selected && !removed.has(e.source) && !removed.has(e.target));
        if (nodes.length === state.nodes.length && edges.length === state.edges.length) return;
        const drafts = Object.fromEntries(Object.entries(state.drafts).filter(([id]) => !removed.has(id)));
        commit({ nodes, edges, drafts });
      },

      replaceTrigger: (nodeId, type) => {
        const state = get();
        const info = catalogue.get(type);
        const old = nodeId === null ? undefined : state.nodes.find((n) => n.id === nodeId);
        if (!info || !isTrigger(info) || (nodeId !== null && !old)) return '';
        const others = state.nodes.filter((n) => n.id !== nodeId);
        const id = others.some((n) => n.id === info.ui.idPrefix) ? nextId(info.ui.idPrefix, others.map((n) => n.id)) : info.ui.idPrefix;
        const hasConfig = Object.keys(info.ui.fields).length > 0 || Object.keys(info.ui.defaults).length > 0;
        const label = uniqueLabel(info.ui.defaultLabel, others);
        const data: NodeData = hasConfig ? { label, config: defaultConfig(info) } : { label };
        let edges: FlowEdge[];
        let position: { x: number; y: number };
        if (old) {
          position = old.position;
          edges = state.edges.map((e) => (e.source === old.id ? { ...e, id: e.id.replace(`e-${old.id}-`, `e-${id}-`), source: id } : e));
        } else {
          // No trigger yet: it goes before the step nothing leads into, and connects to it when there is one.
          const roots = others.filter((n) => !state.edges.some((e) => e.target === n.id) && (catalogue.get(n.type)?.inputs.length ?? 1) > 0);
          const first = roots.length === 1 ? roots[0] : undefined;
          position = first ? { x: first.position.x - SPACING_X, y: first.position.y } : { x: 0, y: 0 };
          edges = first ? [...state.edges, { id: edgeId(id, undefined, first.id, state.edges.map((e) => e.id)), source: id, target: first.id }] : state.edges;
        }
        const node: FlowNode = { id, type: info.type, position, data, selected: true };
        const nodes = [...others.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
        // The trigger leads the document, as a new workflow has it.
        nodes.sort((a, b) => (a.id === id ? -1 : b.id === id ? 1 : 0));
        const drafts = Object.fromEntries(Object.entries(state.drafts).filter(([key]) => key !== nodeId));
        commit({ nodes, edges, drafts });
        return id;
      },

      selectOnly: (nodeId) =>
        set((s) => ({
          nodes: s.nodes.map((n) => (n.selected === (n.id === nodeId) ? n : { ...n, selected: n.id === nodeId })),
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        })),

      setLabel: (nodeId, label) => updateNodeData(nodeId, (data) => ({ ...data, label }), `${nodeId}:label`),

      setConfig: (nodeId, patch) => {
        const state = get();
        const node = state.nodes.find((n) => n.id === nodeId);
        if (!node) return;
        const before = isPlainObject(node.data.config) ? node.data.config : {};
        const config = { ...before };
        for (const [key, value] of Object.entries(patch)) {
          if (value === undefined) delete config[key];
          else config[key] = value;
        }
        const nodes = state.nodes.map((n) => (n.id === nodeId ? { ...n, data: { ...n.data, config } } : n));
        const info = node.type ? catalogue.get(node.type) : undefined;
        const handles = (c: Record<string, unknown>) => (info ? outputHandles(info, c).map((h) => h.id) : []);
        const edges = info?.dynamicOutputs ? followHandles(state.edges, nodeId, handles(before), handles(config)) : state.edges;
        commit(edges === state.edges ? { nodes } : { nodes, edges }, `${nodeId}:config.${Object.keys(patch).sort().join(',')}`);
      },

      setSamplePayload: (nodeId, sample) =>
        updateNodeData(
          nodeId,
          (data) => {
            const { samplePayload: _old, ...rest } = data;
            return sample === undefined ? (rest as NodeData) : { ...rest, samplePayload: sample };
          },
          `${nodeId}:samplePayload`,
        ),

      setPinned: (nodeId, output) =>
        updateNodeData(
          nodeId,
          (data) => {
            const { pinned: _old, ...rest } = data;
            return output === undefined ? (rest as NodeData) : { ...rest, pinned: output };
          },
          `${nodeId}:pinned`,
        ),

      setSetting: (nodeId, path, value) =>
        updateNodeData(
          nodeId,
          (data) => {
            const settings = withValueAt(isPlainObject(data.settings) ? data.settings : undefined, path, value);
            const { settings: _old, ...rest } = data;
            return settings === undefined ? (rest as NodeData) : { ...rest, settings };
          },
          `${nodeId}:settings.${path.join('.')}`,
        ),

      setMeta: (patch) => {
        const meta: DocMeta = { ...get().meta, ...patch };
        for (const [key, value] of Object.entries(patch)) if (value === undefined) delete meta[key];
        commit({ meta }, `meta:${Object.keys(patch).join(',')}`);
      },

      undo: () => {
        const state = get();
        const result = undo(state, documentOf(state));
        if (result) restore(result.doc, result.history);
      },

      redo: () => {
        const state = get();
        const result = redo(state, documentOf(state));
        if (result) restore(result.doc, result.history);
      },

      loadDocument: (doc) => {
        const run = get().run;
        commit({
          ...toFlow(structuredClone(doc)),
          documentLoads: get().documentLoads + 1,
          drafts: {},
          serverIssues: [],
          run: run ? { ...run, onCanvas: false } : null,
        });
      },

      setDraftError: (nodeId, field, message) =>
        set((s) => {
          const forNode = { ...(s.drafts[nodeId] ?? {}) };
          if (message === null) {
            if (!(field in forNode)) return {};
            delete forNode[field];
          } else {
            if (forNode[field] === message) return {};
            forNode[field] = message;
          }
          return { drafts: { ...s.drafts, [nodeId]: forNode } };
        }),

      setServerIssues: (serverIssues) => set({ serverIssues }),
      setServerCheck: (serverCheck) => set(get().serverCheck === serverCheck ? {} : { serverCheck }),
      setInspectorTab: (inspectorTab) => set({ inspectorTab }),

      pushToast: (kind, text) => {
        toastCounter += 1;
        const id = toastCounter;
        set((s) => ({ toasts: [...s.toasts, { id, kind, text }].slice(-3) }));
        return id;
      },

      dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
      // The history and credentials drawers share the right edge: opening one closes the other.
      setHistoryOpen: (historyOpen) => set(historyOpen ? { historyOpen, credentialsOpen: false } : { historyOpen }),
      setRunPanelOpen: (runPanelOpen) => set({ runPanelOpen }),
      setInspectorCollapsed: (inspectorCollapsed) => set({ inspectorCollapsed }),
      setCredentials: (credentials) => set({ credentials }),
      setCredentialsOpen: (credentialsOpen, addName) =>
        set(
          credentialsOpen
            ? { credentialsOpen, historyOpen: false, credentialToAdd: addName ?? null }
            : { credentialsOpen, credentialToAdd: null },
        ),
      // The trigger's payload is never asked for, whoever reports it (a server from before the rule, a stale check).
      setInputsPrompt: (paths) => {
        const inputsPrompt = paths ? paths.filter(isRunInput) : null;
        set({ inputsPrompt: inputsPrompt && inputsPrompt.length > 0 ? inputsPrompt : null });
      },
      setRunInputs: (runInputs) => set({ runInputs: runInputs.filter(isRunInput) }),
      rememberInputs: (values) => set((s) => ({ lastInputs: { ...s.lastInputs, ...values } })),
    };
  });
}

function uniqueLabel(base: string, nodes: readonly FlowNode[]): string {
  const labels = new Set(nodes.map((n) => n.data.label));
  if (!labels.has(base)) return base;
  for (let i = 2; ; i += 1) if (!labels.has(`${base} ${i}`)) return `${base} ${i}`;
}
