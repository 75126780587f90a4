// Saved workflows: the one on the canvas (its versions, restore, the activate switch) and the list to open,
// rename, duplicate or delete from.

import { useState } from 'react';
import { useFocusWhileOpen } from '../app/focus';
import { roleBlocks, useClosesOnEscape, useServices, useWorkflows } from '../app/services';
import type { WorkflowSummary } from '../api/types';
import { formatRelative } from '../run/format';
import { useBuilder } from '../store/hooks';
import { ConfirmDialog } from './ConfirmDialog';
import { Switch } from './controls';
import { Icon } from './icons';

export function WorkflowsDrawer() {
  const { workflows, session } = useServices();
  const open = useWorkflows((s) => s.drawerOpen);
  const list = useWorkflows((s) => s.list);
  const status = useWorkflows((s) => s.listStatus);
  const binding = useWorkflows((s) => s.binding);
  const [deleting, setDeleting] = useState<WorkflowSummary | null>(null);
  const close = () => workflows.setDrawerOpen(false);

  useClosesOnEscape(open, close);
  const drawer = useFocusWhileOpen<HTMLElement>(open);

  if (!open) return null;
  const cannotEdit = roleBlocks(session, 'editor', 'Changing workflows');
  return (
    <aside className="drawer" aria-label="Workflows" data-testid="workflows-drawer" ref={drawer} tabIndex={-1}>
      <header className="drawer__header">
        <h2 className="panel-title">Workflows</h2>
        <div className="drawer__actions">
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={() => workflows.replaceCanvas('Start a new workflow?', () => workflows.newWorkflow())}
            data-testid="workflows-new"
          >
            New
          </button>
          <button type="button" className="icon-button icon-button--quiet" aria-label="Close workflows" onClick={close}>
            <Icon name="close" />
          </button>
        </div>
      </header>
      {binding && <CurrentWorkflow />}
      {status === 'loading' && <p className="drawer__empty">Loading workflows…</p>}
      {status === 'ready' && list.length === 0 && (
        <p className="drawer__empty">Nothing saved yet. Press Save ({navigator.platform.includes('Mac') ? '⌘' : 'Ctrl'}+S) to keep this one.</p>
      )}
      {list.length > 0 && (
        <ul className="workflow-list" aria-label="Saved workflows">
          {list.map((w) => (
            <WorkflowRow key={w.id} workflow={w} current={w.id === binding?.workflowId} cannotEdit={cannotEdit} onDelete={() => setDeleting(w)} />
          ))}
        </ul>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          message="Every version goes, and its webhook URL stops answering. Past runs stay in History."
          confirmLabel="Delete workflow"
          testId="confirm-delete-workflow"
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const id = deleting.id;
            setDeleting(null);
            void workflows.remove(id);
          }}
        />
      )}
    </aside>
  );
}

function WorkflowRow({ workflow, current, cannotEdit, onDelete }: { workflow: WorkflowSummary; current: boolean; cannotEdit: string | null; onDelete: () => void }) {
  const { workflows } = useServices();
  const [renaming, setRenaming] = useState<string | null>(null);
  const triggers = workflow.triggers.map((t) => t.type).join(', ');
  return (
    <li className={`workflow-row${current ? ' is-current' : ''}`} data-testid={`workflow-row-${workflow.id}`}>
      {renaming === null ? (
        <button
          type="button"
          className="workflow-row__open"
          onClick={() => workflows.replaceCanvas(`Open “${workflow.name}”?`, () => workflows.open(workflow.id))}
          data-testid={`workflow-open-${workflow.id}`}
        >
          <span className="workflow-row__name">{workflow.name}</span>
          <span className="workflow-row__meta">
            v{workflow.version}
            {workflow.active ? ` · active v${workflow.activeVersion}` : ''}
            {triggers ? ` · ${triggers}` : ''} · {formatRelative(workflow.updatedAt)}
          </span>
        </button>
      ) : (
        <form
          className="workflow-row__rename"
          onSubmit={(e) => {
            e.preventDefault();
            if (renaming.trim()) void workflows.rename(workflow.id, renaming.trim());
            setRenaming(null);
          }}
        >
          <input
            className="input"
            value={renaming}
            onChange={(e) => setRenaming(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== 'Escape') return;
              e.preventDefault(); // this press cancels the rename only; the drawer stays open
              setRenaming(null);
            }}
            aria-label={`New name for ${workflow.name}`}
            autoFocus
            data-testid={`workflow-rename-input-${workflow.id}`}
          />
          <button type="submit" className="button button--small button--primary">
            Rename
          </button>
        </form>
      )}
      <div className="workflow-row__actions">
        <button type="button" className="link-button" disabled={cannotEdit !== null} title={cannotEdit ?? 'Rename'}
          onClick={() => setRenaming(workflow.name)} data-testid={`workflow-rename-${workflow.id}`}>
          Rename
        </button>
        <button type="button" className="link-button" disabled={cannotEdit !== null} title={cannotEdit ?? 'Save a copy'}
          onClick={() => void workflows.duplicate(workflow.id)} data-testid={`workflow-duplicate-${workflow.id}`}>
          Duplicate
        </button>
        <button type="button" className="link-button link-button--danger" disabled={cannotEdit !== null} title={cannotEdit ?? 'Delete'}
          onClick={onDelete} data-testid={`workflow-delete-${workflow.id}`}>
          Delete
        </button>
      </div>
    </li>
  );
}

function CurrentWorkflow() {
  const { workflows, session } = useServices();
  const binding = useWorkflows((s) => s.binding)!;
  const versions = useWorkflows((s) => s.versions);
  const name = useBuilder((s) => s.meta.name);
  const cannotActivate = roleBlocks(session, 'admin', 'Activating');
  const hook = binding.triggers.find((t) => t.url);
  return (
    <section className="current-workflow" aria-label="This workflow" data-testid="current-workflow">
      <div className="current-workflow__head">
        <span className="current-workflow__name">{name}</span>
        <span className="badge" data-testid="current-version">v{binding.version}</span>
      </div>
      <div className="current-workflow__active" title={cannotActivate ?? (binding.active ? 'Its trigger fires' : 'Its trigger does not fire')}>
        <Switch
          checked={binding.active}
          disabled={cannotActivate !== null}
          label="Active"
          onChange={(on) => void workflows.setActive(on)}
          testId="activate-switch"
        />
        <span>{binding.active ? `Active (version ${binding.activeVersion})` : 'Inactive'}</span>
      </div>
      {binding.active && binding.activeVersion !== binding.version && (
        <p className="muted small current-workflow__behind">
          Version {binding.version} is saved but not live.{' '}
          <button type="button" className="link-button" disabled={cannotActivate !== null} title={cannotActivate ?? undefined}
            onClick={() => void workflows.makeLive()} data-testid="drawer-make-live">
            Make v{binding.version} live
          </button>
        </p>
      )}
      {hook?.url && <p className="muted small">Webhook: select the trigger node to copy its URL.</p>}
      <details
        className="current-workflow__versions"
        onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && void workflows.loadVersions()}
      >
        <summary data-testid="versions-toggle">Versions</summary>
        {versions === null ? (
          <p className="muted small">Loading…</p>
        ) : (
          <ul className="version-list">
            {versions.map((v) => (
              <li key={v.version} className="version-row" data-testid={`version-row-${v.version}`}>
                <span>
                  v{v.version} · {formatRelative(v.createdAt)}
                </span>
                {v.version !== binding.version && (
                  <button type="button" className="link-button" onClick={() => void workflows.restore(v.version)}
                    data-testid={`version-restore-${v.version}`}>
                    Restore
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </details>
    </section>
  );
}
