// Saved workflows: which one this tab edits (and on which version), saving with the version it was made on (a 409
// means someone saved after it: never a silent overwrite), versions and restore, activation, the list.
// Its own store: the document lives in the builder store, this one only says how the document relates to the server.

import { createStore, type StoreApi } from 'zustand/vanilla';
import { ApiError, type Api } from '../api/client';
import type { TriggerInfo, WorkflowSettings, WorkflowSummary, WorkflowVersionInfo, WorkflowView } from '../api/types';
import { parseWorkflow } from '../graph/convert';
import type { GraphDocument } from '../graph/document';
import { emptyDocument } from '../graph/nodeTypes';
import { withoutLiteralSecrets } from '../graph/secrets';
import { documentOf, type BuilderStore } from '../store/store';

/** The saved workflow this tab's document belongs to. `version` is the one its next save is made on. */
export interface Binding {
  workflowId: string;
  version: number;
  active: boolean;
  activeVersion: number | null;
  triggers: TriggerInfo[];
  /** The error workflow the server holds for it, as last seen; absent when the server does not say. */
  errorWorkflowId?: string | null;
}

export interface Conflict {
  message: string;
  latest: number | null;
}

/** A change that would replace the canvas, waiting for the user to agree to lose unsaved changes. */
export interface PendingReplace {
  title: string;
  run: () => void | Promise<void>;
}

export interface WorkflowsState {
  binding: Binding | null;
  /** The document as last saved or opened (JSON); the canvas differs from it when it has unsaved changes. */
  savedSnapshot: string | null;
  list: WorkflowSummary[];
  listStatus: 'idle' | 'loading' | 'ready' | 'error';
  versions: WorkflowVersionInfo[] | null;
  saving: boolean;
  conflict: Conflict | null;
  pendingReplace: PendingReplace | null;
  drawerOpen: boolean;
}

export type WorkflowsStore = StoreApi<WorkflowsState>;

export function snapshotOf(doc: GraphDocument): string {
  const { errorWorkflowId, inputSchema, exposeAsTool } = doc.meta;
  return JSON.stringify({ nodes: doc.nodes, edges: doc.edges, name: doc.meta.name, errorWorkflowId, inputSchema, exposeAsTool });
}

/** What the server keeps beside a workflow's graph (not in it), and the canvas holds in its meta while editing. */
export type Beside = Pick<WorkflowView, 'errorWorkflowId' | 'inputSchema' | 'exposeAsTool'>;

/**
 * What a save sends: the graph without what goes beside it. The error workflow only when set, or as null to clear
 * the one the server has; the declared inputs and "expose as a tool" always (the canvas is what the user sees).
 */
export function saveBodyOf(doc: GraphDocument, binding: Binding | null): { graph: GraphDocument; settings: WorkflowSettings } {
  const { errorWorkflowId, inputSchema, exposeAsTool, ...meta } = doc.meta;
  const settings: WorkflowSettings = { inputSchema: inputSchema ?? null, exposeAsTool: exposeAsTool === true };
  if (errorWorkflowId) settings.errorWorkflowId = errorWorkflowId;
  else if (typeof binding?.errorWorkflowId === 'string') settings.errorWorkflowId = null;
  // The description lives in the graph's meta, and beside it too: what the MCP server and agents describe it by.
  if (meta.description) settings.description = meta.description;
  return { graph: { ...doc, meta }, settings };
}

/** A saved workflow's graph and name as the canvas holds them, with what the server keeps beside the graph. */
export function documentFrom(doc: GraphDocument, name: string, beside: Partial<Beside>): GraphDocument {
  const { errorWorkflowId: _e, inputSchema: _i, exposeAsTool: _x, ...meta } = doc.meta;
  return {
    ...doc,
    meta: {
      ...meta,
      name,
      ...(beside.errorWorkflowId ? { errorWorkflowId: beside.errorWorkflowId } : {}),
      ...(beside.inputSchema ? { inputSchema: beside.inputSchema } : {}),
      ...(beside.exposeAsTool ? { exposeAsTool: true } : {}),
    },
  };
}

export interface WorkflowsService {
  store: WorkflowsStore;
  isDirty(): boolean;
  refreshList(): Promise<void>;
  save(): Promise<void>;
  /** After a conflict: the canvas becomes a new workflow, "<name> (copy)", saved as its version 1. */
  saveAsCopy(): Promise<void>;
  open(id: string, version?: number): Promise<void>;
  newWorkflow(): void;
  /** After a template or an import replaced the canvas: a new workflow, unsaved, with nothing yet to lose. */
  startedFrom(doc: GraphDocument): void;
  rename(id: string, name: string): Promise<void>;
  duplicate(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  loadVersions(): Promise<void>;
  restore(version: number): Promise<void>;
  setActive(active: boolean): Promise<void>;
  /** Puts the latest saved version live (its trigger answers from now on): the workflow must be active already. */
  makeLive(): Promise<void>;
  reloadLatest(): Promise<void>;
  /** Runs `change` now, or after the user agrees to drop unsaved changes. */
  replaceCanvas(title: string, change: () => void | Promise<void>): void;
  setDrawerOpen(open: boolean): void;
}

type Toast = (kind: 'info' | 'success' | 'error', text: string) => void;

export interface WorkflowsHooks {
  /** The canvas now holds another workflow (opened, new, a template or an import): what showed the last one's
   * run lets it go. */
  replaced?: () => void;
}

/** What the toolbar says about which version answers the trigger; null for an unsaved canvas. */
export type LiveState =
  | { kind: 'live'; version: number }
  | { kind: 'behind'; live: number; latest: number }
  | { kind: 'off' }
  | null;

/** Needs the binding only: `version` is the latest saved (what the next save builds on), `activeVersion` the live one. */
export function liveStateOf(binding: Binding | null): LiveState {
  if (!binding) return null;
  if (!binding.active || binding.activeVersion === null) return binding.triggers.some((t) => t.type !== 'start') ? { kind: 'off' } : null;
  return binding.activeVersion === binding.version
    ? { kind: 'live', version: binding.version }
    : { kind: 'behind', live: binding.activeVersion, latest: binding.version };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createWorkflowsService(
  builder: BuilderStore,
  api: Api,
  toast: Toast,
  restored: { binding: Binding | null; savedSnapshot: string | null } | null,
  hooks: WorkflowsHooks = {},
): WorkflowsService {
  const current = () => documentOf(builder.getState());
  const store = createStore<WorkflowsState>(() => ({
    binding: restored?.binding ?? null,
    // A fresh tab's empty canvas has nothing to lose; a restored draft's snapshot says what was saved.
    savedSnapshot: restored ? restored.savedSnapshot : snapshotOf(current()),
    list: [],
    listStatus: 'idle',
    versions: null,
    saving: false,
    conflict: null,
    pendingReplace: null,
    drawerOpen: false,
  }));

  /** `sent`: the settings a save sent, standing in for what a server that does not echo them holds. */
  const bind = (
    view: Pick<WorkflowView, 'id' | 'version' | 'active' | 'activeVersion' | 'triggers' | 'errorWorkflowId'>,
    sent: WorkflowSettings = {},
  ): Binding => {
    const binding: Binding = {
      workflowId: view.id,
      version: view.version,
      active: view.active,
      activeVersion: view.activeVersion,
      triggers: view.triggers,
    };
    const errorWorkflowId = 'errorWorkflowId' in view ? view.errorWorkflowId : sent.errorWorkflowId;
    if (errorWorkflowId !== undefined) binding.errorWorkflowId = errorWorkflowId;
    return binding;
  };

  const toDocument = (graph: unknown, name: string, beside: Partial<Beside>): GraphDocument => {
    const parsed = parseWorkflow(graph, builder.getState().catalogue);
    return documentFrom(parsed.ok ? parsed.doc : emptyDocument(builder.getState().catalogue), name, beside);
  };

  const load = (doc: GraphDocument) => {
    builder.getState().loadDocument(doc);
    hooks.replaced?.();
  };

  const service: WorkflowsService = {
    store,

    isDirty() {
      return snapshotOf(current()) !== store.getState().savedSnapshot;
    },

    async refreshList() {
      store.setState((s) => ({ listStatus: s.listStatus === 'ready' ? 'ready' : 'loading' }));
      try {
        store.setState({ list: await api.listWorkflows(), listStatus: 'ready' });
      } catch (error) {
        store.setState({ listStatus: 'error' });
        toast('error', `Couldn’t list workflows: ${messageOf(error)}`);
      }
    },

    async save() {
      const state = store.getState();
      if (state.saving) return;
      // Secrets typed into header values never leave the browser: they belong in credentials.
      const doc = withoutLiteralSecrets(current(), builder.getState().catalogue).doc;
      const snapshot = snapshotOf(current());
      store.setState({ saving: true });
      try {
        const binding = state.binding;
        const { graph, settings } = saveBodyOf(doc, binding);
        const saved = binding
          ? await api.updateWorkflow(binding.workflowId, graph, binding.version, doc.meta.name, settings)
          : await api.createWorkflow(doc.meta.name, graph, settings);
        store.setState({ binding: bind(saved, settings), savedSnapshot: snapshot, conflict: null, versions: null });
        // Saving does not change what the trigger runs: say so, and the toolbar offers to put it live.
        const stillLive = saved.active && saved.activeVersion !== null && saved.activeVersion !== saved.version;
        toast('success', `Saved ${doc.meta.name} as version ${saved.version}${stillLive ? `; version ${saved.activeVersion} is still the live one` : ''}`);
        void service.refreshList();
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          const latest = /latest version is (\d+)/.exec(error.fields[0]?.reason ?? '')?.[1];
          store.setState({ conflict: { message: error.message, latest: latest ? Number(latest) : null } });
        } else {
          toast('error', `Couldn’t save: ${messageOf(error)}`);
        }
      } finally {
        store.setState({ saving: false });
      }
    },

    async saveAsCopy() {
      store.setState({ binding: null, savedSnapshot: null, conflict: null, versions: null });
      builder.getState().setMeta({ name: `${builder.getState().meta.name} (copy)` });
      await service.save();
    },

    async open(id, version) {
      try {
        const view = await api.getWorkflow(id);
        const older = version !== undefined && version !== view.version ? await api.getVersion(id, version) : null;
        const doc = toDocument(older ? older.graph : view.graph, older ? older.name : view.name, older ?? view);
        load(doc);
        // An older version opens as a change on top of the latest: saving it makes it the newest version.
        store.setState({
          binding: bind(view),
          savedSnapshot: older ? null : snapshotOf(current()),
          conflict: null,
          versions: null,
        });
        toast('info', older ? `Opened version ${version} of ${view.name}: save to make it the latest` : `Opened ${view.name}`);
      } catch (error) {
        toast('error', `Couldn’t open the workflow: ${messageOf(error)}`);
      }
    },

    newWorkflow() {
      load(emptyDocument(builder.getState().catalogue));
      store.setState({ binding: null, savedSnapshot: snapshotOf(current()), conflict: null, versions: null });
    },

    startedFrom(doc) {
      load(doc);
      store.setState({ binding: null, savedSnapshot: snapshotOf(current()), conflict: null, versions: null });
    },

    async rename(id, name) {
      try {
        const view = await api.getWorkflow(id);
        const renamed = await api.updateWorkflow(id, view.graph as unknown as GraphDocument, view.version, name);
        const binding = store.getState().binding;
        if (binding?.workflowId === id) {
          // The rename is a version on top of the latest. This tab's save may move onto it only if the tab was
          // on the latest already: otherwise it has not seen the versions in between, and its next save must get
          // the conflict, not overwrite them.
          const upToDate = binding.version === view.version;
          const clean = upToDate && !service.isDirty();
          builder.getState().setMeta({ name });
          store.setState({
            binding: upToDate ? bind(renamed) : { ...bind(renamed), version: binding.version },
            savedSnapshot: clean ? snapshotOf(current()) : store.getState().savedSnapshot,
          });
        }
        await service.refreshList();
      } catch (error) {
        toast('error', `Couldn’t rename: ${messageOf(error)}`);
      }
    },

    async duplicate(id) {
      try {
        const view = await api.getWorkflow(id);
        const settings: WorkflowSettings = {
          ...(view.errorWorkflowId ? { errorWorkflowId: view.errorWorkflowId } : {}),
          inputSchema: view.inputSchema ?? null,
          exposeAsTool: view.exposeAsTool ?? false,
          ...(view.description ? { description: view.description } : {}),
        };
        const copy = await api.createWorkflow(`${view.name} (copy)`, view.graph as unknown as GraphDocument, settings);
        toast('success', `Duplicated as ${copy.name}`);
        await service.refreshList();
      } catch (error) {
        toast('error', `Couldn’t duplicate: ${messageOf(error)}`);
      }
    },

    async remove(id) {
      try {
        await api.deleteWorkflow(id);
        if (store.getState().binding?.workflowId === id) store.setState({ binding: null, savedSnapshot: null, versions: null });
        await service.refreshList();
      } catch (error) {
        toast('error', `Couldn’t delete: ${messageOf(error)}`);
      }
    },

    async loadVersions() {
      const binding = store.getState().binding;
      if (!binding) return;
      try {
        store.setState({ versions: (await api.listVersions(binding.workflowId)).slice().reverse() });
      } catch (error) {
        toast('error', `Couldn’t list versions: ${messageOf(error)}`);
      }
    },

    async restore(version) {
      const binding = store.getState().binding;
      if (binding) service.replaceCanvas(`Restore version ${version}?`, () => service.open(binding.workflowId, version));
    },

    async setActive(active) {
      const binding = store.getState().binding;
      if (!binding) return;
      try {
        const view = await api.setActive(binding.workflowId, active, active ? binding.version : undefined);
        store.setState({ binding: { ...bind(view), version: binding.version } });
        toast('success', active ? `Version ${view.activeVersion} is live: it answers the trigger now` : 'Deactivated: its trigger no longer fires');
        void service.refreshList();
      } catch (error) {
        toast('error', `Couldn’t ${active ? 'activate' : 'deactivate'}: ${messageOf(error)}`);
      }
    },

    async makeLive() {
      const binding = store.getState().binding;
      if (!binding?.active) return;
      await service.setActive(true);
    },

    async reloadLatest() {
      const binding = store.getState().binding;
      store.setState({ conflict: null });
      if (binding) await service.open(binding.workflowId);
    },

    replaceCanvas(title, change) {
      if (!service.isDirty()) void change();
      else store.setState({ pendingReplace: { title, run: change } });
    },

    setDrawerOpen(open) {
      store.setState({ drawerOpen: open });
      if (open) {
        builder.getState().setHistoryOpen(false);
        builder.getState().setCredentialsOpen(false);
        void service.refreshList();
      }
    },
  };
  return service;
}
