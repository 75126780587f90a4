// "Insert variable": a menu of the {{…}} a step's field can use (run inputs, upstream outputs, credentials),
// and the hook that puts the picked one at the field's cursor.

import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { insertVariable, suggestions, type InsertMode, type Suggestion, type SuggestionGroup } from '../graph/variables';
import { useBuilder, useBuilderShallow, useCatalogue, useDocument } from '../store/hooks';
import { Icon } from './icons';
import '../canvas.css';

type TextField = HTMLInputElement | HTMLTextAreaElement;

/**
 * Remembers a field's last selection (it survives the click on the menu) and inserts a suggestion there,
 * or at the end if the field was never focused, in the form the field takes (`mode`, see insertVariable).
 */
export function useCaretInsert<T extends TextField>(apply: (next: string) => void, mode: InsertMode = 'text') {
  const ref = useRef<T>(null);
  const selection = useRef<{ start: number; end: number } | null>(null);
  const track = () => {
    const el = ref.current;
    if (el) selection.current = { start: el.selectionStart ?? el.value.length, end: el.selectionEnd ?? el.value.length };
  };
  const insert = (suggestion: Suggestion) => {
    const el = ref.current;
    if (!el) return;
    const current = el.value;
    const start = selection.current ? Math.min(selection.current.start, current.length) : null;
    const end = selection.current ? Math.min(selection.current.end, current.length) : null;
    const next = insertVariable(current, start, end, suggestion, mode);
    apply(next.value);
    selection.current = next.selection;
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(next.selection.start, next.selection.end);
    });
  };
  return { ref, track, insert };
}

const GROUPS: { name: SuggestionGroup; empty: string; optional?: boolean }[] = [
  { name: 'Trigger payload', empty: 'Give the trigger a sample payload to pick its fields here.' },
  { name: 'Step outputs', empty: 'No steps before this one.' },
  { name: 'Run inputs', empty: '', optional: true },
  { name: 'Credentials', empty: '', optional: true },
];

export function VariableMenu({
  nodeId,
  onPick,
  compact = false,
  disabled = false,
  disabledReason,
  testId,
  bare = false,
}: {
  nodeId: string;
  onPick: (suggestion: Suggestion) => void;
  /** The field is one expression: entries show (and insert) without {{ }}. */
  bare?: boolean;
  /** Icon-only trigger, for use inside an input. */
  compact?: boolean;
  disabled?: boolean;
  disabledReason?: string;
  testId: string;
}) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const doc = useDocument();
  const catalogue = useCatalogue();
  const names = useBuilderShallow((s) => s.credentials.items.map((c) => c.name));
  const run = useBuilder((s) => (s.run?.onCanvas ? s.run : null));
  const openCredentials = useBuilder((s) => s.setCredentialsOpen);
  const inputs = useBuilder((s) => s.runInputs);
  const items = useMemo(() => {
    if (!open) return [];
    const outputs: Record<string, unknown> = {};
    for (const step of run?.steps ?? []) if (step.output !== null && step.output !== undefined) outputs[step.nodeId] = step.output;
    return suggestions(doc, catalogue, nodeId, { credentialNames: names, inputs, outputs });
  }, [open, doc, catalogue, nodeId, names, inputs, run]);

  // Keep the popover inside the panel that scrolls it: right-aligned to a narrow input (a Set value), it would
  // otherwise reach past the inspector's left edge and be cut off.
  const popover = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = popover.current;
    if (!open || !el) return;
    el.style.transform = '';
    el.style.width = '';
    const bounds = (el.closest('.inspector') ?? document.documentElement).getBoundingClientRect();
    const margin = 8;
    const width = Math.min(el.getBoundingClientRect().width, bounds.width - 2 * margin);
    el.style.width = `${width}px`;
    const box = el.getBoundingClientRect();
    const shift = Math.max(bounds.left + margin - box.left, 0) - Math.max(box.right - (bounds.right - margin), 0);
    if (shift !== 0) el.style.transform = `translateX(${shift}px)`;
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const onKeyDown = (e: ReactKeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      e.nativeEvent.stopImmediatePropagation();
      setOpen(false);
      root.current?.querySelector<HTMLButtonElement>('.variable-menu__trigger')?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const options = [...(root.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
      if (options.length === 0) return;
      e.preventDefault();
      const at = options.indexOf(document.activeElement as HTMLButtonElement);
      const next = e.key === 'ArrowDown' ? (at + 1) % options.length : (at - 1 + options.length) % options.length;
      options[next]?.focus();
    }
  };

  let first = true;
  return (
    <div className={`variable-menu${compact ? ' variable-menu--compact' : ''}`} ref={root} onKeyDown={onKeyDown}>
      <button
        type="button"
        className={compact ? 'icon-button icon-button--quiet variable-menu__trigger' : 'button button--ghost button--small variable-menu__trigger'}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label="Insert variable"
        title={disabled ? disabledReason : 'Insert variable'}
        disabled={disabled}
        onClick={() => setOpen(!open)}
        data-testid={testId}
      >
        <Icon name="braces" size={compact ? 13 : 14} />
        {!compact && 'Insert variable'}
      </button>
      {open && (
        <div ref={popover} className="menu__popover variable-menu__popover" role="menu" aria-label="Insert variable" data-testid="variable-menu">
          {GROUPS.map((group) => {
            const entries = items.filter((s) => s.group === group.name);
            // An empty list of inputs or credentials says nothing worth the room (Manage credentials stays below).
            if (entries.length === 0 && group.optional) return null;
            return (
              <div key={group.name} className="variable-menu__group" role="group" aria-label={group.name}>
                <p className="variable-menu__heading">{group.name}</p>
                {entries.length === 0 && <p className="variable-menu__empty">{group.empty}</p>}
                {entries.map((s) => {
                  const autoFocus = first;
                  first = false;
                  return (
                    <button
                      key={s.text}
                      type="button"
                      role="menuitem"
                      className="menu__item variable-menu__item"
                      autoFocus={autoFocus}
                      onClick={() => {
                        setOpen(false);
                        onPick(s);
                      }}
                      data-testid="variable-option"
                    >
                      <span className="variable-menu__line">
                        <span className="variable-menu__text">{bare ? s.expression : s.text}</span>
                        {s.type && (
                          <span className="variable-menu__type" data-testid="variable-type">
                            {s.type}
                          </span>
                        )}
                      </span>
                      <span className="menu__item-desc">{s.detail}</span>
                    </button>
                  );
                })}
              </div>
            );
          })}
          <button
            type="button"
            className="variable-menu__manage"
            onClick={() => {
              setOpen(false);
              openCredentials(true);
            }}
          >
            <Icon name="key" size={13} /> Manage credentials
          </button>
        </div>
      )}
    </div>
  );
}
