// Top bar: file actions, templates, undo/redo, credentials, history, and Run/Cancel with the reason Run is unavailable.

import { useReactFlow } from '@xyflow/react';
import { useContext } from 'react';
import { IssuesContext, roleBlocks, useServices, useUnsaved, useWorkflows } from '../app/services';
import { liveStateOf } from '../app/workflows';
import { exportFileName, exportWithReport } from '../graph/convert';
import { describeIssue } from '../graph/validate';
import { isTerminal } from '../run/runState';
import { useBuilder, useBuilderStore, useCatalogue, useDocument } from '../store/hooks';
import { documentOf } from '../store/store';
import { Icon } from './icons';
import { ImportReportButton } from './ImportDialog';
import { TemplatesMenu } from './TemplatesMenu';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const MOD = isMac ? '⌘' : 'Ctrl';

export function Toolbar() {
  const store = useBuilderStore();
  const { runs, workflows, imports, session } = useServices();
  const binding = useWorkflows((s) => s.binding);
  const saving = useWorkflows((s) => s.saving);
  const workflowsOpen = useWorkflows((s) => s.drawerOpen);
  const unsaved = useUnsaved();
  const cannotSave = roleBlocks(session, 'editor', 'Saving');
  const catalogue = useCatalogue();
  const { fitView } = useReactFlow();
  const issues = useContext(IssuesContext);
  const doc = useDocument();
  const canUndo = useBuilder((s) => s.past.length > 0);
  const canRedo = useBuilder((s) => s.future.length > 0);
  const hasSelection = useBuilder((s) => s.nodes.some((n) => n.selected) || s.edges.some((e) => e.selected));
  const undo = useBuilder((s) => s.undo);
  const redo = useBuilder((s) => s.redo);
  const deleteSelection = useBuilder((s) => s.deleteSelection);
  const pushToast = useBuilder((s) => s.pushToast);
  const setHistoryOpen = useBuilder((s) => s.setHistoryOpen);
  const historyOpen = useBuilder((s) => s.historyOpen);
  const credentialsOpen = useBuilder((s) => s.credentialsOpen);
  const setCredentialsOpen = useBuilder((s) => s.setCredentialsOpen);
  const meta = useBuilder((s) => s.meta);
  const setMeta = useBuilder((s) => s.setMeta);
  const posting = useBuilder((s) => s.runPosting);
  const activeRun = useBuilder((s) => (s.run && !isTerminal(s.run.status) ? s.run : null));

  const fit = () => requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 250 }));

  const onExport = () => {
    const current = documentOf(store.getState());
    const { doc: exported, removed } = exportWithReport(current, catalogue);
    const blob = new Blob([JSON.stringify(exported, null, 2) + '\n'], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = exportFileName(current);
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
    if (removed > 0) {
      pushToast('error', `Exported without ${removed} secret header value${removed > 1 ? 's' : ''}: store secrets as credentials`);
    }
  };

  const blocked = issues[0];
  const runDisabled = Boolean(blocked) || posting || activeRun !== null;
  const reason = blocked
    ? `${describeIssue(blocked, doc, catalogue)}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`
    : null;
  const missingCredential = blocked?.action?.kind === 'addCredential' ? blocked.action.name : null;

  return (
    <header className="toolbar">
      <div className="toolbar__brand">
        <span className="brand-mark" aria-hidden="true">
          <svg viewBox="0 0 32 32" width="26" height="26">
            <rect width="32" height="32" rx="8" fill="#4f46e5" />
            <path d="M9 22l7-12 7 12" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
        </span>
        <span className="brand-name">AutomateOS</span>
        <span className="toolbar__divider" aria-hidden="true" />
        <input
          className="toolbar__name"
          value={meta.name}
          aria-label="Workflow name"
          onChange={(e) => setMeta({ name: e.target.value })}
          data-testid="workflow-name"
        />
        <button
          type="button"
          className={`button button--small${unsaved ? ' button--primary' : ' button--ghost'}`}
          onClick={() => void workflows.save()}
          disabled={saving || cannotSave !== null}
          title={cannotSave ?? `Save a new version (${MOD}+S)`}
          aria-keyshortcuts="Control+S"
          data-testid="save-button"
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        <span className="save-state" role="status" data-testid="save-state" data-unsaved={unsaved}>
          {binding ? `v${binding.version}` : 'not saved'}
          {unsaved && binding && (
            <span className="save-state__dot" title="Unsaved changes" aria-label="unsaved changes">
              •
            </span>
          )}
        </span>
        <LivePill />
        <ImportReportButton />
      </div>

      <nav className="toolbar__group" aria-label="File">
        <button
          type="button"
          className={`button button--ghost${workflowsOpen ? ' is-active' : ''}`}
          onClick={() => workflows.setDrawerOpen(!workflowsOpen)}
          aria-expanded={workflowsOpen}
          title="Saved workflows"
          data-testid="workflows-button"
        >
          <Icon name="folder" /> <span className="button__label">Workflows</span>
        </button>
        <button
          type="button"
          className="button button--ghost"
          onClick={() => workflows.replaceCanvas('Start a new workflow?', () => {
            workflows.newWorkflow();
            fit();
          })}
          title="New workflow"
          data-testid="new-button"
        >
          <Icon name="file" /> <span className="button__label button__label--wide">New</span>
        </button>
        <button
          type="button"
          className="button button--ghost"
          onClick={() => imports.setState({ choosing: true })}
          aria-haspopup="dialog"
          title="Import a workflow: n8n, Node-RED or AutomateOS"
          data-testid="import-button"
        >
          <Icon name="upload" /> <span className="button__label button__label--wide">Import</span>
        </button>
        <button type="button" className="button button--ghost" onClick={onExport} title="Export this workflow" data-testid="export-button">
          <Icon name="download" /> <span className="button__label button__label--wide">Export</span>
        </button>
        <TemplatesMenu />
      </nav>

      <div className="toolbar__group" role="group" aria-label="Edit">
        <button
          type="button"
          className="icon-button"
          onClick={undo}
          disabled={!canUndo}
          aria-label="Undo"
          title={`Undo (${MOD}+Z)`}
          aria-keyshortcuts="Control+Z"
          data-testid="undo-button"
        >
          <Icon name="undo" />
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={redo}
          disabled={!canRedo}
          aria-label="Redo"
          title={`Redo (${MOD}+Shift+Z)`}
          aria-keyshortcuts="Control+Shift+Z Control+Y"
          data-testid="redo-button"
        >
          <Icon name="redo" />
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={deleteSelection}
          disabled={!hasSelection}
          aria-label="Delete selection"
          title="Delete selection (Delete)"
          aria-keyshortcuts="Delete Backspace"
          data-testid="delete-button"
        >
          <Icon name="trash" />
        </button>
      </div>

      <div className="toolbar__spacer" />

      {/* Beside the run group, not in it: the warning is what gives way first when the header is short of room. */}
      {reason && !activeRun && (
        <span className="run-blocked" role="status" title={reason} data-testid="run-blocked-reason">
          <Icon name="alert" size={14} />
          <span className="run-blocked__text">{reason}</span>
          {missingCredential && (
            <button
              type="button"
              className="link-button run-blocked__action"
              onClick={() => setCredentialsOpen(true, missingCredential)}
              data-testid="run-blocked-add-credential"
            >
              Add it
            </button>
          )}
        </span>
      )}
      <div className="toolbar__group toolbar__run">
        <button
          type="button"
          className={`button button--ghost${credentialsOpen ? ' is-active' : ''}`}
          onClick={() => {
            workflows.setDrawerOpen(false);
            setCredentialsOpen(!credentialsOpen);
          }}
          aria-expanded={credentialsOpen}
          title="Credentials"
          data-testid="credentials-button"
        >
          <Icon name="key" /> <span className="button__label">Credentials</span>
        </button>
        <button
          type="button"
          className={`button button--ghost${historyOpen ? ' is-active' : ''}`}
          onClick={() => {
            workflows.setDrawerOpen(false);
            setHistoryOpen(!historyOpen);
          }}
          aria-expanded={historyOpen}
          title="Run history"
          data-testid="history-button"
        >
          <Icon name="history" /> <span className="button__label">History</span>
        </button>
        {activeRun && (
          <button
            type="button"
            className="button button--danger-ghost"
            onClick={() => void runs.cancel()}
            disabled={activeRun.cancelRequested}
            data-testid="cancel-button"
          >
            <Icon name="stop" size={12} /> {activeRun.cancelRequested ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        <button
          type="button"
          className="button button--primary"
          onClick={() => void runs.request()}
          disabled={runDisabled}
          aria-describedby={reason ? 'run-reason' : undefined}
          aria-keyshortcuts="Control+Enter"
          title={reason ? `Can’t run: ${reason}` : `Run (${MOD}+Enter)`}
          data-testid="run-button"
        >
          <Icon name="play" size={12} /> {posting ? 'Starting…' : activeRun ? 'Running…' : 'Run'}
        </button>
        {reason && (
          <span id="run-reason" className="visually-hidden">
            Can’t run: {reason}
          </span>
        )}
      </div>

    </header>
  );
}

/** Which saved version answers the trigger, and a one-click way to put the latest live when it is not. */
function LivePill() {
  const { workflows, session } = useServices();
  const binding = useWorkflows((s) => s.binding);
  const state = liveStateOf(binding);
  if (!state) return null;
  const cannotActivate = roleBlocks(session, 'admin', 'Making a version live');
  if (state.kind === 'off') {
    return (
      <button
        type="button"
        className="live-pill live-pill--off"
        onClick={() => workflows.setDrawerOpen(true)}
        title="Its trigger does not fire: switch it on in Workflows"
        data-testid="live-pill"
        data-live="off"
      >
        Not live
      </button>
    );
  }
  if (state.kind === 'live') {
    return (
      <span className="live-pill live-pill--on" title={`Version ${state.version}, the latest, answers its trigger`} data-testid="live-pill" data-live="latest">
        <span className="live-pill__dot" aria-hidden="true" />
        Live: v{state.version}
      </span>
    );
  }
  return (
    <span
      className="live-pill live-pill--behind"
      title={`Version ${state.live} answers its trigger; version ${state.latest}, saved since, does not`}
      data-testid="live-pill"
      data-live="behind"
    >
      <span className="live-pill__dot" aria-hidden="true" />
      <span className="live-pill__text">
        Live: v{state.live}
        <span className="live-pill__more"> · v{state.latest} saved, not live</span>
      </span>
      <button
        type="button"
        className="live-pill__action"
        onClick={() => void workflows.makeLive()}
        disabled={cannotActivate !== null}
        title={cannotActivate ?? `Version ${state.latest} answers the trigger from now on`}
        data-testid="make-live"
      >
        Make v{state.latest} live
      </button>
    </span>
  );
}
