import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import type { GraphDocument } from '../graph/document';
import { mainPathLeaf } from '../graph/algorithms';
import { COALESCE_MS, createBuilderStore, documentOf, refusedConnection } from './store';

const catalogue = testCatalogue();

function twoStepDoc(): GraphDocument {
  return {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      { id: 'http_1', type: 'http', position: { x: 280, y: 0 }, data: { label: 'Ping', config: { method: 'GET', url: 'https://a.example' } } },
      { id: 'http_2', type: 'http', position: { x: 560, y: 0 }, data: { label: 'Notify', config: { method: 'POST', url: 'https://b.example' } } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'http_1' },
      { id: 'e2', source: 'http_1', target: 'http_2' },
    ],
    meta: { name: 'Two steps', version: 1 },
  };
}

function setup(initial: GraphDocument = twoStepDoc()) {
  let clock = 0;
  const store = createBuilderStore({ catalogue, initial, now: () => clock });
  return {
    store,
    doc: () => documentOf(store.getState()),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('undo and redo', () => {
  it('undoes and redoes adding a node', () => {
    const { store, doc } = setup();
    const before = doc();
    const id = store.getState().addNode('http');
    expect(doc().nodes.map((n) => n.id)).toContain(id);
    store.getState().undo();
    expect(doc()).toEqual(before);
    store.getState().redo();
    expect(doc().nodes.map((n) => n.id)).toContain(id);
  });

  it('connects a new node to the selected one and gives it defaults from its declaration', () => {
    const { store, doc } = setup();
    const id = store.getState().addNode('http', { connectFrom: 'http_2' });
    const node = doc().nodes.find((n) => n.id === id);
    expect(node?.data.config).toEqual({ method: 'GET', url: '', headers: {}, timeoutMs: 30000 });
    expect(doc().edges).toContainEqual({ id: `e-http_2-${id}`, source: 'http_2', target: id });
  });

  it('names new nodes <idPrefix>_<n>, the lowest n free, and the one trigger by its prefix', () => {
    const { store } = setup();
    expect(store.getState().addNode('http')).toBe('http_3');
    expect(store.getState().addNode('if')).toBe('if_1');
    expect(store.getState().addNode('switch')).toBe('switch_1');
    expect(store.getState().addNode('if')).toBe('if_2');
    store.getState().selectOnly('http_1');
    store.getState().deleteSelection();
    expect(store.getState().addNode('http')).toBe('http_1');
    store.getState().selectOnly('start');
    store.getState().deleteSelection();
    expect(store.getState().addNode('start')).toBe('start');
    expect(store.getState().addNode('start')).toBe('start_1');
    expect(store.getState().addNode('no-such-type')).toBe('');
  });

  it('records a whole drag as one step, on drag stop', () => {
    const { store, doc } = setup();
    const before = doc();
    const move = (x: number, dragging: boolean) =>
      store.getState().onNodesChange([{ type: 'position', id: 'http_1', position: { x, y: 40 }, dragging }]);
    move(300, true);
    move(320, true);
    move(340, true);
    expect(store.getState().past).toHaveLength(0);
    move(340, false);
    expect(store.getState().past).toHaveLength(1);
    expect(doc().nodes[1]?.position).toEqual({ x: 340, y: 40 });
    store.getState().undo();
    expect(doc()).toEqual(before);
    store.getState().redo();
    expect(doc().nodes[1]?.position).toEqual({ x: 340, y: 40 });
  });

  it('moves a multi-selection together and undoes it in one step', () => {
    const { store, doc } = setup();
    const before = doc();
    store.getState().onNodesChange([
      { type: 'position', id: 'http_1', position: { x: 300, y: 100 }, dragging: true },
      { type: 'position', id: 'http_2', position: { x: 580, y: 100 }, dragging: true },
    ]);
    store.getState().onNodesChange([
      { type: 'position', id: 'http_1', position: { x: 300, y: 100 }, dragging: false },
      { type: 'position', id: 'http_2', position: { x: 580, y: 100 }, dragging: false },
    ]);
    store.getState().undo();
    expect(doc()).toEqual(before);
  });

  it('deletes the selection with its edges and restores both on undo', () => {
    const { store, doc } = setup();
    const before = doc();
    store.getState().onNodesChange([
      { type: 'select', id: 'http_1', selected: true },
      { type: 'select', id: 'http_2', selected: true },
    ]);
    expect(store.getState().past).toHaveLength(0); // selection is not an edit
    store.getState().deleteSelection();
    expect(doc().nodes.map((n) => n.id)).toEqual(['start']);
    expect(doc().edges).toEqual([]);
    store.getState().undo();
    expect(doc()).toEqual(before);
  });

  it('undoes a connection, and refuses self-loops, duplicates and cycles', () => {
    const { store, doc } = setup();
    store.getState().deleteSelection();
    const id = store.getState().addNode('http', { position: { x: 0, y: 200 } });
    const edgesBefore = doc().edges;
    store.getState().onConnect({ source: 'http_2', target: id, sourceHandle: null, targetHandle: null });
    expect(doc().edges).toHaveLength(edgesBefore.length + 1);
    store.getState().undo();
    expect(doc().edges).toEqual(edgesBefore);

    const past = store.getState().past.length;
    store.getState().onConnect({ source: 'http_1', target: 'http_1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'start', target: 'http_1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'http_2', target: 'http_1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'http_1', target: 'start', sourceHandle: null, targetHandle: null });
    expect(store.getState().past).toHaveLength(past);
  });

  it('coalesces typing in one field into one undo step, but not edits of different fields', () => {
    const { store, doc, advance } = setup();
    for (const url of ['h', 'ht', 'htt', 'https://x.example']) {
      store.getState().setConfig('http_1', { url });
      advance(100);
    }
    advance(COALESCE_MS);
    store.getState().setConfig('http_1', { method: 'POST' });
    expect(store.getState().past).toHaveLength(2);
    store.getState().undo();
    expect(doc().nodes[1]?.data.config).toMatchObject({ method: 'GET', url: 'https://x.example' });
    store.getState().undo();
    expect(doc().nodes[1]?.data.config).toEqual({ method: 'GET', url: 'https://a.example' });
  });

  it('removes config keys set to undefined and undoes label edits', () => {
    const { store, doc } = setup();
    store.getState().setConfig('http_1', { method: undefined, json_body: { a: 1 } });
    expect(doc().nodes[1]?.data.config).toEqual({ url: 'https://a.example', json_body: { a: 1 } });
    store.getState().setLabel('http_1', 'Renamed');
    expect(doc().nodes[1]?.data.label).toBe('Renamed');
    store.getState().undo();
    expect(doc().nodes[1]?.data.label).toBe('Ping');
  });

  it('drops the redo branch after a new edit', () => {
    const { store } = setup();
    store.getState().addNode('http');
    store.getState().undo();
    expect(store.getState().future).toHaveLength(1);
    store.getState().setLabel('http_1', 'x');
    expect(store.getState().future).toHaveLength(0);
    store.getState().redo();
    expect(store.getState().nodes).toHaveLength(3);
  });

  it('makes loading a document undoable and never keeps selection in the document', () => {
    const { store, doc } = setup();
    const before = doc();
    store.getState().selectOnly('http_1');
    store.getState().loadDocument({ nodes: [], edges: [], meta: { name: 'Empty', version: 1 } });
    expect(doc().nodes).toEqual([]);
    store.getState().undo();
    expect(doc()).toEqual(before);
    expect(JSON.stringify(doc())).not.toContain('selected');
  });
});

describe('branches', () => {
  function branching(): GraphDocument {
    return {
      nodes: [
        { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
        { id: 'switch_1', type: 'switch', position: { x: 280, y: 0 }, data: { label: 'Route', config: { value: '{{inputs.r}}', cases: ['eu', 'us'] } } },
        { id: 'http_1', type: 'http', position: { x: 560, y: 0 }, data: { label: 'EU', config: { url: 'https://eu.example' } } },
        { id: 'http_2', type: 'http', position: { x: 560, y: 140 }, data: { label: 'US', config: { url: 'https://us.example' } } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'switch_1' }],
      meta: { name: 'Branches', version: 1 },
    };
  }

  it('records the output an edge leaves from, and only for nodes that branch', () => {
    const { store, doc } = setup(branching());
    store.getState().onConnect({ source: 'switch_1', sourceHandle: 'us', target: 'http_2', targetHandle: 'in' });
    store.getState().onConnect({ source: 'http_2', sourceHandle: 'out', target: 'http_1', targetHandle: 'in' });
    expect(doc().edges.slice(1)).toEqual([
      { id: 'e-switch_1-us-http_2', source: 'switch_1', target: 'http_2', sourceHandle: 'us' },
      { id: 'e-http_2-http_1', source: 'http_2', target: 'http_1' },
    ]);
    // The same target from another output is another edge; from the same output it is a duplicate.
    store.getState().onConnect({ source: 'switch_1', sourceHandle: 'default', target: 'http_2', targetHandle: null });
    store.getState().onConnect({ source: 'switch_1', sourceHandle: 'us', target: 'http_2', targetHandle: null });
    expect(doc().edges.filter((e) => e.source === 'switch_1').map((e) => e.sourceHandle)).toEqual(['us', 'default']);
  });

  it('adds a step after a branching node on its first free output', () => {
    const { store, doc } = setup(branching());
    const a = store.getState().addNode('set', { connectFrom: 'switch_1' });
    const b = store.getState().addNode('set', { connectFrom: 'switch_1' });
    expect(doc().edges.filter((e) => e.source === 'switch_1').map((e) => [e.sourceHandle, e.target])).toEqual([
      ['eu', a],
      ['us', b],
    ]);
  });

  it('keeps edges on their case when cases are renamed, drops them when a case goes', () => {
    const { store, doc, advance } = setup(branching());
    store.getState().onConnect({ source: 'switch_1', sourceHandle: 'eu', target: 'http_1', targetHandle: null });
    store.getState().onConnect({ source: 'switch_1', sourceHandle: 'us', target: 'http_2', targetHandle: null });
    store.getState().setConfig('switch_1', { cases: ['europe', 'us'] });
    expect(doc().edges.slice(1).map((e) => [e.sourceHandle, e.target])).toEqual([
      ['europe', 'http_1'],
      ['us', 'http_2'],
    ]);
    advance(COALESCE_MS);
    store.getState().setConfig('switch_1', { cases: ['us'] });
    expect(doc().edges.slice(1).map((e) => [e.sourceHandle, e.target])).toEqual([['us', 'http_2']]);
    store.getState().undo();
    expect(doc().edges.slice(1).map((e) => e.sourceHandle)).toEqual(['europe', 'us']);
  });
});

describe('error handling settings', () => {
  it('writes only what is set to data.settings, and removes what is cleared', () => {
    const { store, doc } = setup();
    store.getState().setSetting('http_1', ['retry', 'maxAttempts'], 3);
    store.getState().setSetting('http_1', ['onError'], 'continue');
    expect(doc().nodes[1]?.data.settings).toEqual({ retry: { maxAttempts: 3 }, onError: 'continue' });
    store.getState().setSetting('http_1', ['retry', 'maxAttempts'], undefined);
    store.getState().setSetting('http_1', ['onError'], undefined);
    expect(doc().nodes[1]?.data).toEqual({ label: 'Ping', config: { method: 'GET', url: 'https://a.example' } });
  });
});

describe('the trigger, changed in place', () => {
  it('replaces the trigger, keeping its outgoing edges, in one undo step', () => {
    const { store, doc } = setup();
    const id = store.getState().replaceTrigger('start', 'webhook');
    expect(id).toBe('webhook');
    expect(doc().nodes.map((n) => [n.id, n.type])).toEqual([['webhook', 'webhook'], ['http_1', 'http'], ['http_2', 'http']]);
    expect(doc().edges.map((e) => [e.source, e.target])).toEqual([['webhook', 'http_1'], ['http_1', 'http_2']]);
    expect(doc().nodes[0]?.data.config).toEqual(catalogue.get('webhook')?.ui.defaults);
    store.getState().undo();
    expect(doc()).toEqual(twoStepDoc());
  });

  it('adds a trigger to a canvas without one, before its first step', () => {
    const { store, doc } = setup();
    store.getState().selectOnly('start');
    store.getState().deleteSelection();
    store.getState().replaceTrigger(null, 'schedule');
    expect(doc().nodes[0]?.id).toBe('schedule');
    expect(doc().edges.map((e) => [e.source, e.target])).toContainEqual(['schedule', 'http_1']);
    expect(doc().nodes[0]?.position).toEqual({ x: 0, y: 0 });
  });
});

describe('adding and connecting with nothing selected', () => {
  it('follows the main path to its last step', () => {
    const d = twoStepDoc();
    expect(mainPathLeaf(d)).toBe('http_2');
    expect(mainPathLeaf({ ...d, edges: [] })).toBe('start');
    expect(mainPathLeaf({ ...d, nodes: [] })).toBeNull();
  });

  it('says why a connection is refused: a loop names both steps', () => {
    const d = twoStepDoc();
    expect(refusedConnection(d, catalogue, { source: 'http_2', target: 'http_1' })).toBe(
      'Not connected: Notify already runs after Ping, so this would make a loop',
    );
    expect(refusedConnection(d, catalogue, { source: 'http_2', target: 'start' })).toContain('starts the workflow');
    expect(refusedConnection(d, catalogue, { source: 'start', target: 'http_2' })).toBeNull();
  });
});

describe('the error workflow', () => {
  it('is part of the document: set, undone, redone and removed like any change', () => {
    const { store, doc } = setup();
    store.getState().setMeta({ errorWorkflowId: 'wf_alerts' });
    expect(doc().meta).toMatchObject({ name: 'Two steps', errorWorkflowId: 'wf_alerts' });
    store.getState().undo();
    expect('errorWorkflowId' in doc().meta).toBe(false);
    store.getState().redo();
    expect(doc().meta.errorWorkflowId).toBe('wf_alerts');
    // Cleared, the key goes: an export or a draft says nothing rather than `null`.
    store.getState().setMeta({ errorWorkflowId: undefined });
    expect('errorWorkflowId' in doc().meta).toBe(false);
    expect(JSON.parse(JSON.stringify(doc())).meta).toEqual({ name: 'Two steps', version: 1 });
  });

  it('comes back with the document that held it', () => {
    const { store, doc } = setup();
    store.getState().loadDocument({ ...twoStepDoc(), meta: { name: 'Other', version: 1, errorWorkflowId: 'wf_x' } });
    expect(doc().meta.errorWorkflowId).toBe('wf_x');
  });
});
