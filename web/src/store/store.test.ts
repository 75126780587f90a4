import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document';
import { COALESCE_MS, createBuilderStore, documentOf } from './store';

function twoStepDoc(): GraphDocument {
  return {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      { id: 'http-1', type: 'http', position: { x: 280, y: 0 }, data: { label: 'Ping', config: { method: 'GET', url: 'https://a.example' } } },
      { id: 'http-2', type: 'http', position: { x: 560, y: 0 }, data: { label: 'Notify', config: { method: 'POST', url: 'https://b.example' } } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'http-1' },
      { id: 'e2', source: 'http-1', target: 'http-2' },
    ],
    meta: { name: 'Two steps', version: 1 },
  };
}

function setup(initial: GraphDocument = twoStepDoc()) {
  let clock = 0;
  const store = createBuilderStore({ initial, now: () => clock });
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
    const id = store.getState().addNode('http', { connectFrom: 'http-2' });
    const node = doc().nodes.find((n) => n.id === id);
    expect(node?.data.config).toEqual({ method: 'GET', url: '', headers: {}, timeoutMs: 30000 });
    expect(doc().edges).toContainEqual({ id: `e-http-2-${id}`, source: 'http-2', target: id });
  });

  it('records a whole drag as one step, on drag stop', () => {
    const { store, doc } = setup();
    const before = doc();
    const move = (x: number, dragging: boolean) =>
      store.getState().onNodesChange([{ type: 'position', id: 'http-1', position: { x, y: 40 }, dragging }]);
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
      { type: 'position', id: 'http-1', position: { x: 300, y: 100 }, dragging: true },
      { type: 'position', id: 'http-2', position: { x: 580, y: 100 }, dragging: true },
    ]);
    store.getState().onNodesChange([
      { type: 'position', id: 'http-1', position: { x: 300, y: 100 }, dragging: false },
      { type: 'position', id: 'http-2', position: { x: 580, y: 100 }, dragging: false },
    ]);
    store.getState().undo();
    expect(doc()).toEqual(before);
  });

  it('deletes the selection with its edges and restores both on undo', () => {
    const { store, doc } = setup();
    const before = doc();
    store.getState().onNodesChange([
      { type: 'select', id: 'http-1', selected: true },
      { type: 'select', id: 'http-2', selected: true },
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
    store.getState().onConnect({ source: 'http-2', target: id, sourceHandle: null, targetHandle: null });
    expect(doc().edges).toHaveLength(edgesBefore.length + 1);
    store.getState().undo();
    expect(doc().edges).toEqual(edgesBefore);

    const past = store.getState().past.length;
    store.getState().onConnect({ source: 'http-1', target: 'http-1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'start', target: 'http-1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'http-2', target: 'http-1', sourceHandle: null, targetHandle: null });
    store.getState().onConnect({ source: 'http-1', target: 'start', sourceHandle: null, targetHandle: null });
    expect(store.getState().past).toHaveLength(past);
  });

  it('coalesces typing in one field into one undo step, but not edits of different fields', () => {
    const { store, doc, advance } = setup();
    for (const url of ['h', 'ht', 'htt', 'https://x.example']) {
      store.getState().setConfig('http-1', { url });
      advance(100);
    }
    advance(COALESCE_MS);
    store.getState().setConfig('http-1', { method: 'POST' });
    expect(store.getState().past).toHaveLength(2);
    store.getState().undo();
    expect(doc().nodes[1]?.data.config).toMatchObject({ method: 'GET', url: 'https://x.example' });
    store.getState().undo();
    expect(doc().nodes[1]?.data.config).toEqual({ method: 'GET', url: 'https://a.example' });
  });

  it('removes config keys set to undefined and undoes label edits', () => {
    const { store, doc } = setup();
    store.getState().setConfig('http-1', { method: undefined, json_body: { a: 1 } });
    expect(doc().nodes[1]?.data.config).toEqual({ url: 'https://a.example', json_body: { a: 1 } });
    store.getState().setLabel('http-1', 'Renamed');
    expect(doc().nodes[1]?.data.label).toBe('Renamed');
    store.getState().undo();
    expect(doc().nodes[1]?.data.label).toBe('Ping');
  });

  it('drops the redo branch after a new edit', () => {
    const { store } = setup();
    store.getState().addNode('http');
    store.getState().undo();
    expect(store.getState().future).toHaveLength(1);
    store.getState().setLabel('http-1', 'x');
    expect(store.getState().future).toHaveLength(0);
    store.getState().redo();
    expect(store.getState().nodes).toHaveLength(3);
  });

  it('makes loading a document undoable and never keeps selection in the document', () => {
    const { store, doc } = setup();
    const before = doc();
    store.getState().selectOnly('http-1');
    store.getState().loadDocument({ nodes: [], edges: [], meta: { name: 'Empty', version: 1 } });
    expect(doc().nodes).toEqual([]);
    store.getState().undo();
    expect(doc()).toEqual(before);
    expect(JSON.stringify(doc())).not.toContain('selected');
  });
});
