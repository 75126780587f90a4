import { describe, expect, it, vi } from 'vitest';
import { ApiError, type Api } from '../api/client';
import { fakeApi, testCatalogue } from '../api/fake';
import type { WorkflowSettings, WorkflowView } from '../api/types';
import type { GraphDocument } from '../graph/document';
import { emptyDocument } from '../graph/nodeTypes';
import { createBuilderStore } from '../store/store';
import { createWorkflowsService, liveStateOf, type Binding } from './workflows';

/** One saved workflow on a pretend server that, like the real one, refuses a save on a stale base version. */
function server() {
  const versions: WorkflowView[] = [];
  const view = (name: string, graph: unknown): WorkflowView => ({
    id: 'wf1',
    name,
    version: versions.length + 1,
    active: false,
    activeVersion: null, exposeAsTool: false, inputSchema: null,
    triggers: [],
    description: null,
    errorWorkflowId: null,
    graph: graph as WorkflowView['graph'],
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });
  const latest = () => versions.at(-1)!;
  const api: Api = fakeApi({
    getWorkflow: vi.fn(async () => latest()),
    updateWorkflow: vi.fn(async (_id: string, graph: GraphDocument, baseVersion: number, name?: string) => {
      if (baseVersion !== latest().version) {
        throw new ApiError(409, 'conflict', `Version ${latest().version} was saved after version ${baseVersion}`, [
          { field: 'baseVersion', reason: `the latest version is ${latest().version}`, nodeId: null, edgeId: null },
        ]);
      }
      versions.push(view(name ?? latest().name, graph));
      return latest();
    }),
  });
  return { api, versions, save: (name: string, graph: unknown) => versions.push(view(name, graph)) };
}

function tab(api: Api) {
  const builder = createBuilderStore({ catalogue: testCatalogue() });
  const service = createWorkflowsService(builder, api, () => undefined, null);
  return { builder, service };
}

describe('workflows service: rename from the list', () => {
  it('does not move a tab past versions it has not seen, so its next save gets the conflict', async () => {
    const { api, versions, save } = server();
    const doc = emptyDocument(testCatalogue());
    save('Shared', doc);
    const a = tab(api);
    await a.service.open('wf1');
    a.builder.getState().setMeta({ name: 'Shared, unsaved work in tab A' });

    save('Shared, from tab B', doc); // another tab saves version 2
    await a.service.rename('wf1', 'Renamed'); // version 3, on top of 2
    expect(versions.map((v) => v.name)).toEqual(['Shared', 'Shared, from tab B', 'Renamed']);
    expect(a.service.store.getState().binding?.version).toBe(1);

    await a.service.save();
    expect(versions).toHaveLength(3); // nothing overwritten
    expect(a.service.store.getState().conflict).toMatchObject({ latest: 3 });
  });

  it('moves an up-to-date tab onto the renamed version, keeping it clean', async () => {
    const { api, versions, save } = server();
    save('Mine', emptyDocument(testCatalogue()));
    const a = tab(api);
    await a.service.open('wf1');
    await a.service.rename('wf1', 'Mine, renamed');
    expect(a.service.store.getState().binding?.version).toBe(2);
    expect(a.builder.getState().meta.name).toBe('Mine, renamed');
    expect(a.service.isDirty()).toBe(false);

    a.builder.getState().setMeta({ name: 'Mine, changed' });
    await a.service.save();
    expect(a.service.store.getState().conflict).toBeNull();
    expect(versions.map((v) => [v.version, v.name])).toEqual([[1, 'Mine'], [2, 'Mine, renamed'], [3, 'Mine, changed']]);
  });
});

describe('which version is live', () => {
  const bound = (over: Partial<Binding>): Binding => ({ workflowId: 'wf1', version: 3, active: true, activeVersion: 3, triggers: [], ...over });
  it('is the latest, an older one, or none', () => {
    expect(liveStateOf(null)).toBeNull();
    expect(liveStateOf(bound({}))).toEqual({ kind: 'live', version: 3 });
    expect(liveStateOf(bound({ activeVersion: 2 }))).toEqual({ kind: 'behind', live: 2, latest: 3 });
    const hook = [{ nodeId: 'hook', type: 'webhook', url: 'http://x/v1/hooks/abc', nextRuns: null }];
    expect(liveStateOf(bound({ active: false, activeVersion: null, triggers: hook }))).toEqual({ kind: 'off' });
    // A workflow started only by hand has nothing to switch on: no pill nagging about it.
    const manual = [{ nodeId: 'start', type: 'start', url: null, nextRuns: null }];
    expect(liveStateOf(bound({ active: false, activeVersion: null, triggers: manual }))).toBeNull();
  });
});

describe('the error workflow, saved beside the graph', () => {
  /** A pretend server that keeps `errorWorkflowId` as the real one will (`known`), or ignores it as older ones do. */
  const UNDECLARED = { inputSchema: null, exposeAsTool: false };

  function serverWithSettings(known: boolean) {
    let held: string | null = null;
    let declared: { inputSchema: Record<string, unknown> | null; exposeAsTool: boolean } = { inputSchema: null, exposeAsTool: false };
    const bodies: { graph: GraphDocument; settings: unknown }[] = [];
    const view = (graph: GraphDocument, version: number): WorkflowView => ({
      id: 'wf1',
      name: graph.meta.name,
      version,
      active: false,
      activeVersion: null,
      ...declared,
      triggers: [],
      description: null,
      graph: graph as unknown as WorkflowView['graph'],
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      ...(known ? { errorWorkflowId: held } : {}),
    });
    let latest: WorkflowView | null = null;
    const keep = (graph: GraphDocument, settings: WorkflowSettings = {}) => {
      bodies.push({ graph, settings });
      if (known && settings.errorWorkflowId !== undefined) held = settings.errorWorkflowId;
      declared = { inputSchema: settings.inputSchema ?? null, exposeAsTool: settings.exposeAsTool ?? false };
      latest = view(graph, (latest?.version ?? 0) + 1);
      return latest;
    };
    const api = fakeApi({
      createWorkflow: vi.fn(async (_name: string, graph: GraphDocument, settings?: WorkflowSettings) => keep(graph, settings)),
      updateWorkflow: vi.fn(async (_id: string, graph: GraphDocument, _base: number, _name?: string, settings?: WorkflowSettings) =>
        keep(graph, settings),
      ),
      getWorkflow: vi.fn(async () => latest!),
    });
    return { api, bodies };
  }

  it('declared inputs and "expose as a tool" go beside the graph and come back when opened', async () => {
    const { api, bodies } = serverWithSettings(true);
    const a = tab(api);
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    a.builder.getState().setMeta({ name: 'Weather', inputSchema: schema, exposeAsTool: true, description: 'Looks it up' });
    await a.service.save();
    expect(bodies[0]?.settings).toEqual({ inputSchema: schema, exposeAsTool: true, description: 'Looks it up' });
    expect('inputSchema' in (bodies[0]?.graph.meta ?? {})).toBe(false);
    const b = tab(api);
    await b.service.open('wf1');
    expect(b.builder.getState().meta).toMatchObject({ inputSchema: schema, exposeAsTool: true });
    expect(b.service.isDirty()).toBe(false);
  });

  it('is sent beside the graph, not in it, and comes back when the workflow is opened in another tab', async () => {
    const { api, bodies } = serverWithSettings(true);
    const a = tab(api);
    a.builder.getState().setMeta({ name: 'Orders', errorWorkflowId: 'wf_alerts' });
    await a.service.save();
    expect(bodies[0]?.settings).toEqual({ ...UNDECLARED, errorWorkflowId: 'wf_alerts' });
    expect('errorWorkflowId' in (bodies[0]?.graph.meta ?? {})).toBe(false);
    expect(a.service.isDirty()).toBe(false);

    const b = tab(api);
    await b.service.open('wf1');
    expect(b.builder.getState().meta.errorWorkflowId).toBe('wf_alerts');
    expect(b.service.isDirty()).toBe(false);
  });

  it('makes the canvas unsaved when changed, and is cleared with null only when the server has one', async () => {
    const { api, bodies } = serverWithSettings(true);
    const a = tab(api);
    await a.service.save();
    expect(bodies[0]?.settings).toEqual(UNDECLARED); // never set: not sent
    a.builder.getState().setMeta({ errorWorkflowId: 'wf_alerts' });
    expect(a.service.isDirty()).toBe(true);
    await a.service.save();
    a.builder.getState().setMeta({ errorWorkflowId: undefined });
    expect(a.service.isDirty()).toBe(true);
    await a.service.save();
    expect(bodies.map((body) => body.settings)).toEqual([
      UNDECLARED,
      { ...UNDECLARED, errorWorkflowId: 'wf_alerts' },
      { ...UNDECLARED, errorWorkflowId: null },
    ]);

    const b = tab(api);
    await b.service.open('wf1');
    expect('errorWorkflowId' in b.builder.getState().meta).toBe(false);
  });

  it('is sent only when set to a server that does not know it yet, and an old copy in a graph is not trusted', async () => {
    const { api, bodies } = serverWithSettings(false);
    const a = tab(api);
    a.builder.getState().setMeta({ errorWorkflowId: 'wf_alerts' });
    await a.service.save();
    a.builder.getState().setMeta({ name: 'Renamed' });
    await a.service.save();
    expect(bodies.map((body) => body.settings)).toEqual([
      { ...UNDECLARED, errorWorkflowId: 'wf_alerts' },
      { ...UNDECLARED, errorWorkflowId: 'wf_alerts' },
    ]);

    // What the server does not hold is not shown as if it did.
    bodies[1]!.graph.meta.errorWorkflowId = 'wf_stale';
    const b = tab(api);
    await b.service.open('wf1');
    expect('errorWorkflowId' in b.builder.getState().meta).toBe(false);
  });
});
