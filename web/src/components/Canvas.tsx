// The graph editor: React Flow wired to the store, with drop-from-palette, minimap and view controls.

import {
  Background,
  BackgroundVariant,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type IsValidConnection,
  type NodeTypes,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, type DragEvent } from 'react';
import type { NodeKind } from '../graph/document';
import { definitionOf, NODE_DEFINITIONS } from '../graph/nodeTypes';
import { useBuilder, useBuilderStore } from '../store/hooks';
import { canConnect, documentOf, type FlowNode } from '../store/store';
import { WorkflowNode } from './WorkflowNode';

export const DRAG_MIME = 'application/x-automateos-node';

// Every declared node type renders through the same component, driven by its declaration.
const nodeTypes: NodeTypes = Object.fromEntries(Object.keys(NODE_DEFINITIONS).map((type) => [type, WorkflowNode]));
const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];

export function Canvas() {
  const store = useBuilderStore();
  const nodes = useBuilder((s) => s.nodes);
  const storeEdges = useBuilder((s) => s.edges);
  const onNodesChange = useBuilder((s) => s.onNodesChange);
  const onEdgesChange = useBuilder((s) => s.onEdgesChange);
  const onConnect = useBuilder((s) => s.onConnect);
  const addNode = useBuilder((s) => s.addNode);
  const running = useBuilder((s) => (s.run?.onCanvas ? s.run.steps.filter((st) => st.status === 'running').map((st) => st.nodeId).join(',') : ''));
  const { screenToFlowPosition, fitView } = useReactFlow();
  const runPanelOpen = useBuilder((s) => s.runPanelOpen);
  const firstRender = useRef(true);

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

  const edges = useMemo<Edge[]>(() => {
    const active = new Set(running.split(',').filter(Boolean));
    return storeEdges.map((e) => ({
      ...e,
      type: 'smoothstep',
      animated: active.has(e.target),
      markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    }));
  }, [storeEdges, running]);

  const isValidConnection: IsValidConnection = useCallback(
    (c: Edge | Connection) => canConnect(documentOf(store.getState()), c.source, c.target),
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
      if (!definitionOf(type)) return;
      event.preventDefault();
      const position = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      // Drop so the cursor sits on the node's left part, where it was grabbed in the palette.
      addNode(type as NodeKind, { position: { x: position.x - 40, y: position.y - 30 } });
    },
    [addNode, screenToFlowPosition],
  );

  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
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
        <Controls position="bottom-left" showInteractive={false} aria-label="Zoom and fit view" />
        <MiniMap
          position="bottom-right"
          pannable
          zoomable
          style={{ width: 150, height: 96 }}
          ariaLabel="Minimap"
          nodeColor={(n) => definitionOf(n.type ?? '')?.accent ?? '#94a3b8'}
          nodeStrokeWidth={0}
          nodeBorderRadius={6}
          maskColor="rgba(241, 245, 249, 0.7)"
        />
      </ReactFlow>
    </div>
  );
}
