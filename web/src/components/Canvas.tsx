// The graph editor: React Flow wired to the store, with drop-from-palette, minimap and view controls.

import {
  Background,
  BackgroundVariant,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type Edge,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeTypes,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import type { StepView } from '../run/runState';
import { useBuilder, useBuilderStore, useCatalogue } from '../store/hooks';
import { EACH_HANDLE, LOOP_TYPE } from '../graph/loops';
import { isTrigger } from '../graph/nodeTypes';
import { canConnect, documentOf, refusedConnection, type FlowNode } from '../store/store';
import '../canvas.css';
import '../controlFlow.css';
import { LoopGroups } from './LoopGroups';
import { WorkflowNode } from './WorkflowNode';

export const DRAG_MIME = 'application/x-automateos-node';

/** How long a refused connection's reason stays over the canvas. */
const NOTICE_MS = 6000;

const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];

/** Whether a box in flow coordinates (the graph's bounds) shows whole in a canvas of `size` at `viewport`. */
export function showsWhole(
  box: { x: number; y: number; width: number; height: number },
  viewport: { x: number; y: number; zoom: number },
  size: { width: number; height: number },
): boolean {
  const left = box.x * viewport.zoom + viewport.x;
  const top = box.y * viewport.zoom + viewport.y;
  return left >= 0 && top >= 0 && left + box.width * viewport.zoom <= size.width && top + box.height * viewport.zoom <= size.height;
}

/** After a run: an edge the run went along, or one it did not (a branch not taken, or into a skipped step). */
export function edgeRunState(
  edge: { source: string; target: string; sourceHandle?: string | null },
  steps: ReadonlyMap<string, StepView>,
): 'taken' | 'untaken' | null {
  const from = steps.get(edge.source);
  const to = steps.get(edge.target);
  if (!from) return null;
  // A loop's body hangs off `each`, which its own handles (`done`) never name: taken once an item ran.
  if (edge.sourceHandle === EACH_HANDLE && from.type === LOOP_TYPE && from.items)
    return from.items.done + from.items.running.length > 0 ? 'taken' : from.status === 'succeeded' ? 'untaken' : null;
  if (from.handles !== null) {
    if (edge.sourceHandle && !from.handles.includes(edge.sourceHandle)) return 'untaken';
    if (edge.sourceHandle && from.handles.includes(edge.sourceHandle)) return 'taken';
  }
  if (from.status === 'skipped' || to?.status === 'skipped') return 'untaken';
  if (to && to.status !== 'queued' && !to.placeholder) return 'taken';
  return null;
}

export function Canvas() {
  const store = useBuilderStore();
  const nodes = useBuilder((s) => s.nodes);
  const storeEdges = useBuilder((s) => s.edges);
  const onNodesChange = useBuilder((s) => s.onNodesChange);
  const onEdgesChange = useBuilder((s) => s.onEdgesChange);
  const onConnect = useBuilder((s) => s.onConnect);
  const addNode = useBuilder((s) => s.addNode);
  const catalogue = useCatalogue();
  const runSteps = useBuilder((s) => (s.run?.onCanvas ? s.run.steps : null));
  const { screenToFlowPosition, fitView, getNodesBounds, getViewport } = useReactFlow();
  const container = useRef<HTMLDivElement>(null);
  const runPanelOpen = useBuilder((s) => s.runPanelOpen);
  const firstRender = useRef(true);
  const hasTrigger = useBuilder((s) => s.nodes.some((n) => isTrigger(s.catalogue.get(n.type ?? ''))));
  const [notice, setNotice] = useState<{ id: number; text: string } | null>(null);

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  // A drag released on a step that refuses it says why there, instead of silently doing nothing.
  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, connection: FinalConnectionState) => {
      if (!connection.toNode || connection.isValid) return;
      const state = store.getState();
      const link = connection.fromHandle?.type === 'target'
        ? { source: connection.toNode.id, target: connection.fromNode?.id ?? null, sourceHandle: connection.toHandle?.id ?? null }
        : { source: connection.fromNode?.id ?? null, target: connection.toNode.id, sourceHandle: connection.fromHandle?.id ?? null };
      const reason = refusedConnection(documentOf(state), state.catalogue, link);
      if (reason) setNotice({ id: Date.now(), text: reason });
    },
    [store],
  );

  // Escape unselects a node and React Flow then blurs it, and Delete removes the focused node: either way focus
  // would fall to <body>, and the next key would go nowhere. Keep it on the canvas: on the node when it is still
  // there, else on the canvas itself. Two frames: React Flow blurs in the frame after the key.
  const onKeyDown = useCallback((event: ReactKeyboardEvent) => {
    if (!['Escape', 'Delete', 'Backspace'].includes(event.key)) return;
    const nodeId = (event.target as HTMLElement).closest<HTMLElement>('.react-flow__node')?.dataset.id;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const el = container.current;
        const active = document.activeElement;
        if (!el || (active && active !== document.body && active.isConnected)) return;
        const node = nodeId ? el.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(nodeId)}"]`) : null;
        (node ?? el).focus();
      }),
    );
  }, []);

  // At start-up (a reload brings the draft back) React Flow's own fit may run before the panels around the canvas
  // have their widths, leaving steps out of view: fit again once the nodes are measured, once.
  const nodesInitialized = useNodesInitialized();
  const startupFit = useRef(true);
  useEffect(() => {
    if (!nodesInitialized || !startupFit.current) return;
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        startupFit.current = false;
        void fitView({ padding: 0.2, maxZoom: 1 });
      });
    });
    return () => cancelAnimationFrame(frame);
  }, [nodesInitialized, fitView]);

  // A document that replaces the canvas (a workflow opened from Workflows or History, or at start-up from the
  // address, an import, a template) is fitted to view: the view of the one before means nothing for it.
  const documentLoads = useBuilder((s) => s.documentLoads);
  const loadsSeen = useRef(documentLoads);
  useEffect(() => {
    if (documentLoads === loadsSeen.current) return;
    loadsSeen.current = documentLoads;
    // Two frames: React Flow measures the new nodes first, and fitView needs their sizes.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
    });
    return () => cancelAnimationFrame(frame);
  }, [documentLoads, fitView]);

  // Opening or closing the run panel resizes the canvas: re-fit so no step ends up hidden under it.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    // Two frames: React Flow learns the new canvas size from a ResizeObserver after the first layout.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
    });
    return () => cancelAnimationFrame(frame);
  }, [runPanelOpen, fitView]);

  // A resized window changes the canvas (the panels beside it narrow or fold at the breakpoints): when a step
  // would then be cut off, behind the inspector or past the edge, fit the view again. A view that still shows
  // the whole graph is left as the user made it.
  useEffect(() => {
    const el = container.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    // Width only: the run panel changes the height, and its own effect above re-fits then.
    let width = el.clientWidth;
    let frame = 0;
    const check = () => {
      const nodes = store.getState().nodes;
      const size = { width: el.clientWidth, height: el.clientHeight };
      if (nodes.length === 0 || showsWhole(getNodesBounds(nodes), getViewport(), size)) return;
      void fitView({ padding: 0.2, maxZoom: 1, duration: 200 });
    };
    const observer = new ResizeObserver(() => {
      if (el.clientWidth === width) return;
      width = el.clientWidth;
      cancelAnimationFrame(frame);
      // Two frames, as above: React Flow takes the new size from its own ResizeObserver first.
      frame = requestAnimationFrame(() => {
        frame = requestAnimationFrame(check);
      });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [store, fitView, getNodesBounds, getViewport]);

  // Every node type renders through the same component, driven by its catalogue entry.
  const nodeTypes = useMemo<NodeTypes>(
    () => Object.fromEntries(catalogue.types.map((t) => [t.type, WorkflowNode])),
    [catalogue],
  );

  const edges = useMemo<Edge[]>(() => {
    const steps = new Map((runSteps ?? []).map((st) => [st.nodeId, st]));
    return storeEdges.map((e) => {
      const state = runSteps ? edgeRunState(e, steps) : null;
      const target = steps.get(e.target);
      return {
        ...e,
        type: 'smoothstep',
        animated: target?.status === 'running' || target?.status === 'waiting',
        className: state ? `is-${state}` : undefined,
        markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18, color: state === 'untaken' ? '#cbd5e1' : '#94a3b8' },
      };
    });
  }, [storeEdges, runSteps]);

  const isValidConnection: IsValidConnection = useCallback(
    (c: Edge | Connection) => {
      const state = store.getState();
      return canConnect(documentOf(state), state.catalogue, c);
    },
    [store],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(DRAG_MIME);
      if (!catalogue.get(type)) return;
      event.preventDefault();
      const position = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      // Drop so the cursor sits on the node's left part, where it was grabbed in the palette.
      addNode(type, { position: { x: position.x - 40, y: position.y - 30 } });
    },
    [addNode, screenToFlowPosition, catalogue],
  );

  return (
    <div
      className="canvas"
      ref={container}
      tabIndex={-1}
      aria-label="Canvas"
      onDragOver={onDragOver}
      onDrop={onDrop}
      onKeyDown={onKeyDown}
      data-testid="canvas"
    >
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionKeyCode="Shift"
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        minZoom={0.2}
        maxZoom={2}
        snapToGrid
        snapGrid={[10, 10]}
        proOptions={{ hideAttribution: true }}
        connectionLineStyle={{ stroke: '#6366f1', strokeWidth: 2 }}
        aria-label="Workflow canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd5e1" />
        <LoopGroups />
        <Controls position="bottom-left" showInteractive={false} aria-label="Zoom and fit view" />
        <MiniMap
          position="bottom-right"
          pannable
          zoomable
          style={{ width: 150, height: 96 }}
          ariaLabel="Minimap"
          nodeColor={(n) => catalogue.get(n.type ?? '')?.ui.accent ?? '#94a3b8'}
          nodeStrokeWidth={0}
          nodeBorderRadius={6}
          maskColor="rgba(241, 245, 249, 0.7)"
        />
      </ReactFlow>
      {notice && (
        <div className="canvas-notice" role="status" key={notice.id} data-testid="canvas-notice">
          {notice.text}
          <button type="button" className="icon-button icon-button--quiet" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      {!hasTrigger && <TriggerPicker />}
    </div>
  );
}

/** A canvas with no trigger asks first how the workflow starts, as n8n does; the steps already there stay. */
function TriggerPicker() {
  const catalogue = useCatalogue();
  const replaceTrigger = useBuilder((s) => s.replaceTrigger);
  const empty = useBuilder((s) => s.nodes.length === 0);
  const { fitView } = useReactFlow();
  return (
    <section className="trigger-picker" aria-label="Choose a trigger" data-testid="trigger-picker">
      <h2 className="trigger-picker__title">{empty ? 'How does this workflow start?' : 'This workflow has no trigger'}</h2>
      <p className="muted small">Pick what starts a run; you can change it later from its panel.</p>
      <div className="trigger-picker__options">
        {catalogue.types.filter(isTrigger).map((t) => (
          <button
            key={t.type}
            type="button"
            className="trigger-picker__option"
            style={{ ['--accent' as string]: t.ui.accent }}
            onClick={() => {
              replaceTrigger(null, t.type);
              requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
            }}
            data-testid={`trigger-pick-${t.type}`}
          >
            <span className="palette__chip" aria-hidden="true">
              {t.ui.glyph}
            </span>
            <span className="trigger-picker__text">
              <span className="trigger-picker__name">{t.title}</span>
              <span className="muted small">{t.description}</span>
            </span>
          </button>
        ))}
      </div>
    </section>
  );
}
