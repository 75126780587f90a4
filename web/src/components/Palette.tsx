// Node types to add, as the server lists them: drag one onto the canvas, or click (or press Enter) to add it
// after the selected step (with nothing selected, after the last step of the main path).

import { useReactFlow } from '@xyflow/react';
import type { DragEvent } from 'react';
import { useServices } from '../app/services';
import { mainPathLeaf } from '../graph/algorithms';
import { isTrigger, type NodeTypeInfo } from '../graph/nodeTypes';
import { documentOf } from '../store/store';
import { useBuilder, useBuilderStore, useCatalogue } from '../store/hooks';
import { DRAG_MIME } from './Canvas';

export function Palette() {
  const store = useBuilderStore();
  const catalogue = useCatalogue();
  const addNode = useBuilder((s) => s.addNode);
  const hasTrigger = useBuilder((s) => s.nodes.some((n) => isTrigger(s.catalogue.get(n.type ?? ''))));
  const { fitView } = useReactFlow();

  const add = (info: NodeTypeInfo) => {
    const state = store.getState();
    if (isTrigger(info)) {
      state.replaceTrigger(null, info.type);
    } else {
      const selected = state.nodes.filter((n) => n.selected);
      // Nothing selected: after the last step of the main path, as the next step of the flow.
      const doc = documentOf(state);
      const trigger = doc.nodes.find((n) => isTrigger(state.catalogue.get(n.type)));
      const from = selected.length === 1 ? selected[0]?.id : selected.length === 0 ? mainPathLeaf(doc, trigger?.id) : null;
      addNode(info.type, from && info.inputs.length > 0 ? { connectFrom: from } : {});
    }
    // Keep the new step in view (it is placed next to the selected or last step).
    requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 200 }));
  };

  const onDragStart = (event: DragEvent, info: NodeTypeInfo) => {
    event.dataTransfer.setData(DRAG_MIME, info.type);
    event.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <aside className="palette" aria-label="Steps you can add">
      <h2 className="panel-title">Add a step</h2>
      <ul className="palette__list">
        {catalogue.types.map((definition) => {
          const disabled = isTrigger(definition) && hasTrigger;
          return (
            <li key={definition.type}>
              <button
                type="button"
                className="palette__item"
                draggable={!disabled}
                disabled={disabled}
                onDragStart={(e) => onDragStart(e, definition)}
                onClick={() => add(definition)}
                data-testid={`palette-${definition.type}`}
                aria-label={`Add ${definition.title}`}
                title={disabled ? 'A workflow starts from exactly one trigger: select it and use Change trigger' : `${definition.description}. Drag onto the canvas, or click to add`}
                style={{ ['--accent' as string]: definition.ui.accent }}
              >
                <span className="palette__chip" aria-hidden="true">
                  {definition.ui.glyph}
                </span>
                <span className="palette__text">
                  <span className="palette__name">{definition.title}</span>
                  <span className="palette__desc">{disabled ? 'Select the trigger, then Change trigger' : definition.description}</span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      <div className="palette__help">
        <h3>Tips</h3>
        <ul>
          <li>Drag from a node’s right dot to another node to connect them.</li>
          <li>
            <kbd>Shift</kbd>+click or <kbd>Shift</kbd>+drag to select several.
          </li>
          <li>
            <kbd>Del</kbd> removes the selection; <kbd>Ctrl</kbd>+<kbd>Z</kbd> undoes.
          </li>
          <li>
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs the workflow; <kbd>Ctrl</kbd>+<kbd>S</kbd> saves it.
          </li>
        </ul>
      </div>
      <SessionFooter />
    </aside>
  );
}

/** Who is signed in, and the way out; out of the toolbar's way, where the palette leaves room. */
function SessionFooter() {
  const { session, api } = useServices();
  return (
    <div className="palette__session" data-testid="session-chip" title={`Signed in as ${session.name} (${session.role})`}>
      <span className="palette__session-name">
        {session.name} <span className="muted">· {session.role}</span>
      </span>
      <button type="button" className="link-button" onClick={() => void api.signOut().then(() => window.location.assign('/'))}
        data-testid="sign-out">
        Sign out
      </button>
    </div>
  );
}
