// Import: a file or pasted text goes to POST /v1/import, which detects the format. An n8n workflow or a Node-RED
// flow shows its report, node by node, before anything replaces the canvas; our own export loads as it is (nothing
// was converted, so there is nothing to report). After an import with steps to review, the report stays
// readable from the toolbar (ImportReportButton), where a step's row selects it on the canvas.

import { useReactFlow } from '@xyflow/react';
import { useId, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import type { FieldError, ImportReport, ImportResponse, ImportSource, ImportedNode } from '../api/types';
import { useFocusTrap } from '../app/focus';
import { useClosesOnEscape, useImportReport, useServices } from '../app/services';
import { documentOfImport, needsAttention, nextSteps, readImportText, SOURCE_LABELS, STATUS_LABELS, steps, toCheck } from '../graph/importing';
import { useBuilder, useCatalogue } from '../store/hooks';
import { Icon } from './icons';

type Failure = { message: string; fields: FieldError[] };
type Checked = { answer: ImportResponse; original: unknown };

const failureOf = (error: unknown): Failure =>
  error instanceof ApiError
    ? { message: error.message, fields: error.fields }
    : { message: error instanceof Error ? error.message : String(error), fields: [] };

/** The server's messages and notes are sentence fragments (`dropped: …`); shown alone they start with a capital,
 * except a name that is spelled in lower case (n8n). */
const sentence = (text: string): string => (/^[a-z](?![\w-]*\d)/.test(text) ? text[0]!.toUpperCase() + text.slice(1) : text);

/** The dialog behind the toolbar's Import: choose or paste, check, read the report, replace the canvas. */
export function ImportDialog() {
  const { imports } = useServices();
  const choosing = useImportReport((s) => s.choosing);
  return choosing ? <ImportForm onClose={() => imports.setState({ choosing: false })} /> : null;
}

function ImportForm({ onClose }: { onClose: () => void }) {
  const { api, workflows, imports } = useServices();
  const catalogue = useCatalogue();
  const pushToast = useBuilder((s) => s.pushToast);
  const { fitView } = useReactFlow();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [checked, setChecked] = useState<Checked | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const dialog = useFocusTrap<HTMLFormElement>();
  const ids = useId();
  useClosesOnEscape(true, onClose);

  const load = (answer: ImportResponse, original: unknown) => {
    const loaded = documentOfImport(answer, original, catalogue);
    if (!loaded.ok) {
      setChecked(null);
      setFailure({ message: `It can’t be opened: ${loaded.reason}`, fields: [] });
      return;
    }
    onClose();
    const converted = answer.source !== 'automateos';
    const from = converted ? ` from ${SOURCE_LABELS[answer.source]}` : '';
    workflows.replaceCanvas(`Import ${loaded.doc.meta.name}${from}?`, () => {
      workflows.startedFrom(loaded.doc); // Clears the report of what the canvas held before; this one is kept after.
      if (converted && needsAttention(answer.report)) imports.setState({ kept: { name: answer.name, source: answer.source, report: answer.report }, open: false });
      const toReview = toCheck(answer.report);
      pushToast('success', `Imported ${loaded.doc.meta.name}${from}${toReview > 0 ? `: ${steps(toReview)} to check, listed in Import report` : ''}`);
      requestAnimationFrame(() => void fitView({ padding: 0.2, maxZoom: 1, duration: 250 }));
    });
  };

  const check = async (content: string) => {
    setFailure(null);
    const read = readImportText(content);
    if (!read.ok) {
      setFailure({ message: read.reason, fields: [] });
      return;
    }
    setBusy(true);
    try {
      const answer = await api.importWorkflow(read.value);
      if (answer.source === 'automateos') load(answer, read.value);
      else setChecked({ answer, original: read.value });
    } catch (error) {
      setFailure(failureOf(error));
    } finally {
      setBusy(false);
    }
  };

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = ''; // Choosing the same file again (after fixing it) is a change too.
    if (!file) return;
    setFileName(file.name);
    setText('');
    await check(await file.text());
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (checked) load(checked.answer, checked.original);
    else {
      setFileName(null);
      void check(text);
    }
  };

  const titleId = `${ids}-title`;
  return (
    <div className="modal-backdrop" onPointerDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        ref={dialog}
        className="modal import-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onSubmit={submit}
        data-testid="import-dialog"
        data-stage={checked ? 'report' : 'choose'}
      >
        <DialogHeader titleId={titleId} title={checked ? 'Check the import' : 'Import a workflow'} onClose={onClose}>
          {checked
            ? 'Nothing has changed yet. Read what each step becomes, then replace the canvas with it.'
            : 'An n8n workflow, a Node-RED flow or an AutomateOS export. The format is detected, and you see what each step becomes before the canvas changes.'}
        </DialogHeader>

        {checked ? (
          <ReportView answer={checked.answer} />
        ) : (
          <div className="import-dialog__body">
            <div className="import-dialog__file">
              <button type="button" className="button" onClick={() => fileInput.current?.click()} disabled={busy} data-testid="import-choose">
                <Icon name="upload" /> Choose a .json file
              </button>
              <span className="muted small import-dialog__file-name" data-testid="import-file-name">
                {fileName ?? 'n8n: Download, or copy the nodes. Node-RED: Export → JSON.'}
              </span>
              <input
                ref={fileInput}
                type="file"
                accept=".json,application/json"
                className="visually-hidden"
                tabIndex={-1}
                aria-label="Workflow file to import"
                onChange={(e) => void onFile(e)}
                data-testid="import-input"
              />
            </div>
            <label className="field">
              <span className="field__label">Or paste the export</span>
              <textarea
                className="input input--mono textarea import-dialog__paste"
                rows={7}
                value={text}
                spellCheck={false}
                autoFocus
                placeholder={'{ "name": "…", "nodes": [ … ], "connections": { … } }'}
                onChange={(e) => setText(e.target.value)}
                aria-invalid={failure !== null}
                aria-describedby={failure ? `${ids}-error` : undefined}
                data-testid="import-text"
              />
            </label>
            {failure && <FailureView id={`${ids}-error`} failure={failure} fileName={fileName} />}
          </div>
        )}

        <div className="modal__actions import-dialog__actions">
          {checked && (
            <button type="button" className="button button--ghost import-dialog__back" onClick={() => setChecked(null)} data-testid="import-back">
              <Icon name="chevronLeft" size={14} /> Another file
            </button>
          )}
          <button type="button" className="button button--ghost" onClick={onClose} data-testid="import-cancel">
            Cancel
          </button>
          {checked ? (
            // Focus goes where the decision is: the report was read above it, and Enter confirms.
            <button key="replace" type="submit" className="button button--primary" autoFocus data-testid="import-replace">
              Replace canvas
            </button>
          ) : (
            <button key="check" type="submit" className="button button--primary" disabled={busy || text.trim() === ''} data-testid="import-check">
              {busy ? 'Checking…' : 'Check import'}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

function DialogHeader({ titleId, title, onClose, children }: { titleId: string; title: string; onClose: () => void; children: ReactNode }) {
  return (
    <div className="import-dialog__header">
      <span className="run-inputs__icon" aria-hidden="true">
        <Icon name="upload" size={14} />
      </span>
      <div className="import-dialog__heading">
        <h2 id={titleId} className="modal__title">
          {title}
        </h2>
        <p className="muted small">{children}</p>
      </div>
      <button type="button" className="icon-button icon-button--quiet" aria-label="Close" onClick={onClose}>
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}

function FailureView({ id, failure, fileName }: { id: string; failure: Failure; fileName: string | null }) {
  return (
    <div id={id} className="callout callout--error" role="alert" data-testid="import-error">
      <strong>
        {fileName ? `${fileName}: ` : ''}
        {sentence(failure.message)}
      </strong>
      {failure.fields.length > 0 && (
        <ul className="import-dialog__fields">
          {failure.fields.map((f, i) => (
            <li key={i}>
              <code>{f.field}</code> {f.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The detected format, the name, the counts, what to do next and the table: before import and after it. */
function ReportView({ answer, onPick }: { answer: Pick<ImportResponse, 'name' | 'source' | 'report'>; onPick?: (nodeId: string) => void }) {
  const { report } = answer;
  return (
    <div className="import-dialog__body import-report" data-testid="import-report">
      <div className="import-report__summary">
        <p className="import-report__what">
          <span className="import-report__source" data-testid="import-source">
            {SOURCE_LABELS[answer.source]}
          </span>
          <span className="import-report__name" data-testid="import-name">
            {answer.name}
          </span>
        </p>
        <Counts report={report} />
        <p className={`import-report__next${needsAttention(report) ? ' is-warn' : ''}`} data-testid="import-next">
          {needsAttention(report) && <Icon name="alert" size={14} />}
          <span>{nextSteps(report, onPick !== undefined)}</span>
        </p>
      </div>
      <ReportTable nodes={report.nodes} source={answer.source} onPick={onPick} />
    </div>
  );
}

function Counts({ report }: { report: ImportReport }) {
  const counts = [
    ['converted', report.converted, 'converted'],
    ['review', report.review, 'to review'],
    ['unsupported', report.unsupported, 'unsupported'],
  ] as const;
  return (
    <ul className="import-report__counts" aria-label="Steps by outcome">
      {counts.map(([status, n, label]) => (
        <li key={status} className={`import-count import-count--${status}${n === 0 ? ' is-zero' : ''}`} data-testid={`import-count-${status}`}>
          <strong>{n}</strong> {label}
        </li>
      ))}
    </ul>
  );
}

/** n8n names types by package (`n8n-nodes-base.httpRequest`): the part after the package is what its editor shows. */
const typeLabel = (source: ImportSource, type: string): string => (source === 'n8n' ? type.replace(/^.*\./, '') : type);

function ReportTable({ nodes, source, onPick }: { nodes: ImportedNode[]; source: ImportSource; onPick?: ((nodeId: string) => void) | undefined }) {
  const onCanvas = useBuilder((s) => s.nodes);
  return (
    <div className="import-report__table-wrap">
      <table className="import-report__table">
        <thead>
          <tr>
            <th scope="col">{SOURCE_LABELS[source]} step</th>
            <th scope="col">Outcome</th>
            <th scope="col">Notes</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node, index) => {
            const present = onPick && node.id !== null && onCanvas.some((n) => n.id === node.id);
            return (
              <tr key={`${node.id ?? ''}-${index}`} className={`import-row import-row--${node.status}`} data-testid="import-row" data-status={node.status} data-node-id={node.id ?? ''}>
                <th scope="row">
                  {present ? (
                    <button type="button" className="link-button import-row__name" onClick={() => onPick(node.id!)} title="Select it on the canvas" data-testid="import-row-select">
                      {node.from.name}
                    </button>
                  ) : (
                    <span className="import-row__name">{node.from.name}</span>
                  )}
                  <code className="import-row__type">{typeLabel(source, node.from.type)}</code>
                </th>
                <td>
                  <span className={`import-badge import-badge--${node.status}`} data-testid="import-row-status">
                    {STATUS_LABELS[node.status]}
                  </span>
                  {node.id === null && <span className="import-row__dropped">not on the canvas</span>}
                </td>
                <td className="import-row__notes">
                  {node.notes.length === 0 ? (
                    <span className="muted">Same meaning here.</span>
                  ) : (
                    <ul>
                      {node.notes.map((note, i) => (
                        <li key={i}>{sentence(note)}</li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The toolbar's way back to the last import's report, while the canvas holds what it imported. */
export function ImportReportButton() {
  const { imports } = useServices();
  const kept = useImportReport((s) => s.kept);
  if (!kept) return null;
  const pending = toCheck(kept.report);
  return (
    <button
      type="button"
      className="import-pill"
      onClick={() => imports.setState({ open: true })}
      title={`What the import from ${SOURCE_LABELS[kept.source]} converted, and the ${steps(pending)} to check`}
      aria-label={`Import report: ${steps(pending)} to check`}
      data-testid="import-report-button"
    >
      <Icon name="alert" size={13} />
      <span className="import-pill__label">Import report</span>
      <span className="import-pill__count">{pending}</span>
    </button>
  );
}

/** The kept report: the same view, where a step's name selects it on the canvas (and the inspector shows it). */
export function KeptImportDialog() {
  const { imports } = useServices();
  const kept = useImportReport((s) => s.kept);
  const open = useImportReport((s) => s.open);
  return kept && open ? <KeptReport kept={kept} close={() => imports.setState({ open: false })} forget={() => imports.setState({ kept: null, open: false })} /> : null;
}

function KeptReport({ kept, close, forget }: { kept: { name: string; source: ImportSource; report: ImportReport }; close: () => void; forget: () => void }) {
  const selectOnly = useBuilder((s) => s.selectOnly);
  const { fitView } = useReactFlow();
  const dialog = useFocusTrap<HTMLDivElement>();
  const ids = useId();
  useClosesOnEscape(true, close);
  const pick = (nodeId: string) => {
    close();
    selectOnly(nodeId);
    requestAnimationFrame(() => void fitView({ nodes: [{ id: nodeId }], padding: 0.6, maxZoom: 1, duration: 250 }));
  };
  return (
    <div className="modal-backdrop" onPointerDown={(e) => e.target === e.currentTarget && close()}>
      <div ref={dialog} className="modal import-dialog" role="dialog" aria-modal="true" aria-labelledby={`${ids}-title`} data-testid="import-report-dialog">
        <DialogHeader titleId={`${ids}-title`} title="Import report" onClose={close}>
          What the import converted, kept until the canvas holds another workflow (or the page reloads).
        </DialogHeader>
        <ReportView answer={kept} onPick={pick} />
        <div className="modal__actions import-dialog__actions">
          <button type="button" className="button button--ghost import-dialog__back" onClick={forget} data-testid="import-report-dismiss">
            Dismiss the report
          </button>
          <button type="button" className="button button--primary" autoFocus onClick={close} data-testid="import-report-close">
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
