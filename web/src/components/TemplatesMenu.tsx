// Toolbar menu listing the server's templates; picking one validates it and loads it onto the canvas.

import { useReactFlow } from '@xyflow/react';
import { useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useClosesOnEscape, useServices } from '../app/services';
import type { TemplateSummary } from '../api/types';
import { loadWorkflow, withServerTypes } from '../graph/convert';
import { useBuilder, useCatalogue } from '../store/hooks';
import { Icon } from './icons';

type ListState = { kind: 'idle' } | { kind: 'loading' } | { kind: 'ready'; templates: TemplateSummary[] } | { kind: 'error'; message: string };

export function TemplatesMenu() {
  const { api, workflows } = useServices();
  const catalogue = useCatalogue();
  const pushToast = useBuilder((s) => s.pushToast);
  const { fitView } = useReactFlow();
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<ListState>({ kind: 'idle' });
  const [loadingId, setLoadingId] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    let live = true;
    setList((l) => (l.kind === 'ready' ? l : { kind: 'loading' }));
    api.listTemplates().then(
      (templates) => live && setList({ kind: 'ready', templates }),
      (error: unknown) => live && setList({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => {
      live = false;
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open, api]);
  useClosesOnEscape(open, () => {
    setOpen(false);
    trigger.current?.focus();
  });

  const pick = async (template: TemplateSummary) => {
    setLoadingId(template.id);
    try {
      const raw = await withServerTypes(await api.getTemplate(template.id), catalogue, (graph) => api.validate(graph));
      const result = loadWorkflow(raw, catalogue);
      if (!result.ok) {
        pushToast('error', `Template “${template.name}” can’t be loaded: ${result.reason}`);
        return;
      }
      setOpen(false);
      workflows.replaceCanvas(`Load the ${result.doc.meta.name} template?`, () => {
        workflows.startedFrom(result.doc);
        pushToast('success', `Loaded ${result.doc.meta.name}`);
        requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 250 }));
      });
    } catch (error) {
      pushToast('error', `Could not fetch template: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setLoadingId(null);
    }
  };

  // Arrow keys, Home and End move between the items, as in any menu.
  const onMenuKey = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    const items = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not(:disabled)')];
    if (items.length === 0) return;
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const moves: Record<string, number> = {
      ArrowDown: (at + 1) % items.length,
      ArrowUp: (at - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    items[next]?.focus();
  };

  return (
    <div className="menu" ref={root}>
      <button
        ref={trigger}
        type="button"
        className="button button--ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        title="Templates"
        data-testid="templates-button"
      >
        <Icon name="template" /> <span className="button__label">Templates</span> <Icon name="chevronDown" size={14} />
      </button>
      {open && (
        <div className="menu__popover" role="menu" aria-label="Templates" data-testid="templates-menu" onKeyDown={onMenuKey}>
          {list.kind === 'loading' || list.kind === 'idle' ? (
            <p className="menu__empty">Loading templates…</p>
          ) : list.kind === 'error' ? (
            <p className="menu__empty menu__empty--error">Couldn’t load templates: {list.message}</p>
          ) : list.templates.length === 0 ? (
            <p className="menu__empty">No templates on this server yet.</p>
          ) : (
            list.templates.map((t, i) => (
              <button
                key={t.id}
                type="button"
                role="menuitem"
                className="menu__item"
                autoFocus={i === 0}
                disabled={loadingId !== null}
                onClick={() => void pick(t)}
                data-testid={`template-item-${t.id}`}
              >
                <span className="menu__item-title">{t.name}</span>
                {t.description && <span className="menu__item-desc">{t.description}</span>}
                {loadingId === t.id && <span className="menu__item-desc">Loading…</span>}
              </button>
            ))
          )}
        </div>
      )}
    </div>
  );
}
