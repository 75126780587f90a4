// Picks a saved workflow by name and gives its id: a combobox over GET /v1/workflows (the workflows service's list),
// filtered as you type. An id no saved workflow has is shown as such, with a warning, never silently dropped.

import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { hashOf } from '../app/route';
import { useClosesOnEscape, useServices, useWorkflows } from '../app/services';
import type { WorkflowSummary } from '../api/types';
import { Icon } from './icons';

/**
 * The saved workflows a query picks from, best first: names starting with it, then names with a word starting with
 * it, then names containing it, then an id starting with it (a pasted id); within each, the list's own order (most
 * recently changed first). `exclude` (the workflow being edited) is never offered.
 */
export function filterWorkflows(list: readonly WorkflowSummary[], query: string, exclude?: string | null): WorkflowSummary[] {
  const q = query.trim().toLowerCase();
  const offered = list.filter((w) => w.id !== exclude);
  if (q === '') return offered;
  const rank = (w: WorkflowSummary): number => {
    const name = w.name.toLowerCase();
    if (name.startsWith(q)) return 0;
    if (name.split(/[^\p{L}\p{N}]+/u).some((word) => word.startsWith(q))) return 1;
    if (name.includes(q)) return 2;
    if (w.id.toLowerCase().startsWith(q)) return 3;
    return -1;
  };
  return offered
    .map((w) => ({ w, r: rank(w) }))
    .filter(({ r }) => r >= 0)
    .sort((a, b) => a.r - b.r)
    .map(({ w }) => w);
}

/** The words an input shows for a stored id: the workflow's name, or that it is unknown once the list is in. */
export function shownName(list: readonly WorkflowSummary[], listed: boolean, value: string | null): string {
  if (!value) return '';
  const found = list.find((w) => w.id === value);
  return found ? found.name : listed ? `Unknown workflow ${value}` : value;
}

export interface WorkflowPickerProps {
  id: string;
  /** The chosen workflow's id, or null. */
  value: string | null;
  onChange: (id: string | null) => void;
  /** Never offered (the workflow being edited). */
  exclude?: string | null;
  /** The choice that clears it. */
  noneLabel: string;
  invalid?: boolean;
  testId: string;
}

export function WorkflowPicker({ id, value, onChange, exclude, noneLabel, invalid = false, testId }: WorkflowPickerProps) {
  const { workflows } = useServices();
  const list = useWorkflows((s) => s.list);
  const status = useWorkflows((s) => s.listStatus);
  const [query, setQuery] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const listId = useId();
  const warningId = useId();
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (status === 'idle') void workflows.refreshList();
  }, [status, workflows]);

  const close = () => {
    setOpen(false);
    setQuery(null);
  };
  useClosesOnEscape(open, close);

  const listed = status === 'ready';
  const unknown = value !== null && value !== '' && listed && !list.some((w) => w.id === value);
  const matches = filterWorkflows(list, query ?? '', exclude);
  // "None" leads the options while something is chosen; then the matches.
  const options: (WorkflowSummary | null)[] = value ? [null, ...matches] : matches;

  const pick = (choice: WorkflowSummary | null) => {
    close();
    if ((choice?.id ?? null) !== value) onChange(choice?.id ?? null);
  };

  const show = () => {
    if (!open) {
      setOpen(true);
      setActive(0);
      void workflows.refreshList(); // names change in other tabs; the list is a few hundred bytes a workflow
    }
  };

  useEffect(() => {
    listRef.current?.querySelector<HTMLElement>('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [active, open]);

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) return show();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((at) => (options.length === 0 ? 0 : (at + step + options.length) % options.length));
    } else if (e.key === 'Enter' && open) {
      e.preventDefault();
      const choice = options[active];
      if (choice !== undefined) pick(choice);
    }
  };

  const found = value ? list.find((w) => w.id === value) : undefined;
  return (
    <div className="workflow-picker" data-testid={testId}>
      <div className="workflow-picker__row">
        <div className="workflow-picker__box">
          <input
            id={id}
            className={`input${unknown ? ' input--warn' : ''}`}
            role="combobox"
            aria-expanded={open}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={open && options.length > 0 ? `${listId}-${active}` : undefined}
            aria-invalid={invalid || unknown}
            aria-describedby={unknown ? warningId : undefined}
            autoComplete="off"
            spellCheck={false}
            placeholder={status === 'loading' ? 'Loading workflows…' : 'Search saved workflows'}
            value={query ?? shownName(list, listed, value)}
            onFocus={show}
            onClick={show}
            onBlur={close}
            onChange={(e) => {
              setQuery(e.target.value);
              setActive(0);
              setOpen(true);
            }}
            onKeyDown={onKeyDown}
            data-testid="workflow-picker-input"
          />
          {open && (
            <ul ref={listRef} id={listId} className="menu__popover workflow-picker__list" role="listbox" aria-label="Saved workflows">
              {options.map((w, index) => (
                <li
                  key={w?.id ?? ''}
                  id={`${listId}-${index}`}
                  role="option"
                  aria-selected={index === active}
                  className={`workflow-picker__option${index === active ? ' is-active' : ''}${w === null ? ' workflow-picker__option--none' : ''}`}
                  // Picking must not blur the input first (which closes the list).
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(index)}
                  onClick={() => pick(w)}
                  data-testid="workflow-option"
                >
                  {w === null ? (
                    <span className="workflow-picker__name">{noneLabel}</span>
                  ) : (
                    <>
                      <span className="workflow-picker__name">{w.name}</span>
                      <span className="workflow-picker__meta">
                        v{w.version}
                        {w.active ? ' · active' : ''} · {w.id}
                      </span>
                    </>
                  )}
                </li>
              ))}
              {matches.length === 0 && (
                <li className="workflow-picker__empty" role="presentation">
                  {status === 'loading' ? 'Loading…' : status === 'error' ? 'Couldn’t list the saved workflows.' : query ? `No saved workflow matches “${query}”.` : 'No other saved workflows yet.'}
                </li>
              )}
            </ul>
          )}
        </div>
        {found && (
          <a className="button button--ghost button--small workflow-picker__open" href={hashOf(found.id)} title={`Open ${found.name}`} data-testid="workflow-open-link">
            Open <Icon name="external" size={13} />
          </a>
        )}
      </div>
      {unknown && (
        <p className="field__warning" id={warningId} role="status" data-testid="workflow-unknown">
          <Icon name="alert" size={13} />
          <span>
            No saved workflow has the id <code>{value}</code>: it was deleted, or this workflow came from another server. Choose
            another.
          </span>
        </p>
      )}
    </div>
  );
}
