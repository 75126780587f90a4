// The right-hand panel: the selected step's form (drawn from its catalogue entry) or what happened to it in
// the last run, or the workflow's details and open problems when nothing is selected.

import { useContext, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { IssuesContext, useWorkflows } from '../app/services';
import { isPlainObject } from '../graph/document';
import { choiceGroups, formFields, type FormField, type NodeTypeInfo } from '../graph/nodeTypes';
import { settingFields, valueAt, type SettingField } from '../graph/settings';
import { describeIssue, type Issue } from '../graph/validate';
import { useBuilder, useBuilderShallow, useCatalogue, useDocument } from '../store/hooks';
import type { FlowNode } from '../store/store';
import { Field, FieldControl, Switch } from './controls';
import { Icon } from './icons';
import { PinFromRun, PinnedOutput, TestStep } from './PinPanel';
import { TriggerPanel } from './TriggerPanel';
import { StepDetails } from './StepDetails';
import { STATUS_LABEL } from './WorkflowNode';
import { ExposeAsTool, WorkflowInputs } from './WorkflowInputs';
import { WorkflowPicker } from './WorkflowPicker';

export function Inspector() {
  const selected = useBuilderShallow((s) => s.nodes.filter((n) => n.selected));
  const selectedEdges = useBuilder((s) => s.edges.filter((e) => e.selected).length);
  const deleteSelection = useBuilder((s) => s.deleteSelection);
  const collapsed = useBuilder((s) => s.inspectorCollapsed);
  const setCollapsed = useBuilder((s) => s.setInspectorCollapsed);

  let content;
  if (selected.length === 1) content = <NodeInspector node={selected[0]!} />;
  else if (selected.length > 1 || selectedEdges > 0)
    content = (
      <div className="inspector__section">
        <h2 className="panel-title">
          {selected.length > 0 ? `${selected.length} steps selected` : `${selectedEdges} connection${selectedEdges > 1 ? 's' : ''} selected`}
        </h2>
        <p className="muted">Drag any of them to move the group together.</p>
        <button type="button" className="button button--danger-ghost" onClick={deleteSelection} data-testid="inspector-delete">
          <Icon name="trash" /> Delete selection
        </button>
      </div>
    );
  else content = <WorkflowForm />;

  return (
    <aside className={`inspector${collapsed ? ' is-collapsed' : ''}`} aria-label="Inspector" data-testid="inspector">
      {/* Shown only in narrow windows (styles.css), where the inspector can fold away. */}
      <button
        type="button"
        className="icon-button icon-button--quiet inspector__fold"
        aria-expanded={!collapsed}
        aria-label={collapsed ? 'Show the inspector' : 'Hide the inspector'}
        title={collapsed ? 'Show the inspector' : 'Hide the inspector'}
        onClick={() => setCollapsed(!collapsed)}
        data-testid="inspector-fold"
      >
        <Icon name={collapsed ? 'chevronLeft' : 'chevronRight'} size={16} />
      </button>
      <div className="inspector__content">{content}</div>
    </aside>
  );
}

function NodeInspector({ node }: { node: FlowNode }) {
  const info = useCatalogue().get(node.type ?? '');
  const step = useBuilder((s) => (s.run?.onCanvas ? s.run.steps.find((st) => st.nodeId === node.id) : undefined));
  const runId = useBuilder((s) => s.run?.runId);
  const tab = useBuilder((s) => s.inspectorTab);
  const setTab = useBuilder((s) => s.setInspectorTab);
  if (!info) return <UnknownNode node={node} />;
  const hasRun = step !== undefined && !(step.placeholder && step.status === 'queued');
  const showing = hasRun && tab === 'run' ? 'run' : 'config';

  return (
    <div className="inspector__section" key={node.id}>
      <div className="inspector__header" style={{ ['--accent' as string]: info.ui.accent }}>
        <span className="wf-node__chip" aria-hidden="true">
          {info.ui.glyph}
        </span>
        <div>
          <h2 className="panel-title">{info.title}</h2>
          <p className="muted small">{info.description}</p>
        </div>
      </div>
      {info.kind !== 'trigger' && <TestStep node={node} />}
      {hasRun && (
        <div className="tabs" role="tablist" aria-label="Step">
          <button
            type="button"
            role="tab"
            aria-selected={showing === 'config'}
            className={`tabs__tab${showing === 'config' ? ' is-active' : ''}`}
            onClick={() => setTab('config')}
            data-testid="tab-config"
          >
            Configure
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={showing === 'run'}
            className={`tabs__tab${showing === 'run' ? ' is-active' : ''}`}
            onClick={() => setTab('run')}
            data-testid="tab-run"
          >
            Last run
            <span className={`status status--${step.status} tabs__status`} title={STATUS_LABEL[step.status]}>
              <span className="status__dot" aria-hidden="true" />
              <span className="visually-hidden">{STATUS_LABEL[step.status]}</span>
            </span>
          </button>
        </div>
      )}
      {showing === 'run' && step ? (
        <>
          <PinFromRun node={node} step={step} runId={runId} />
          <StepDetails step={step} runId={runId} />
        </>
      ) : (
        <NodeForm node={node} info={info} />
      )}
    </div>
  );
}

function NodeForm({ node, info }: { node: FlowNode; info: NodeTypeInfo }) {
  const issues = useContext(IssuesContext).filter((i) => i.nodeId === node.id);
  const setLabel = useBuilder((s) => s.setLabel);
  const setConfig = useBuilder((s) => s.setConfig);
  const deleteSelection = useBuilder((s) => s.deleteSelection);
  const labelId = useId();
  const config = isPlainObject(node.data.config) ? node.data.config : {};
  const fields = formFields(info);
  const groups = choiceGroups(info);
  const fieldKeys = new Set([...fields.map((f) => f.key), 'label']);
  const errorsFor = (field: string) => dedupe(issues.filter((i) => i.field === field).map((i) => i.message));
  // Problems with no field of their own on this form (the node, its edges, a config key no control shows).
  const general = dedupe(
    issues.filter((i) => !i.field || (!fieldKeys.has(i.field) && !i.field.startsWith('settings.'))).map((i) => i.message),
  );

  return (
    <>
      {general.length > 0 && (
        <ul className="callout callout--error" data-testid="node-issues">
          {general.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {info.kind === 'trigger' && <ChangeTrigger node={node} info={info} />}
      <Field label="Name" htmlFor={labelId} errors={errorsFor('label')} testId="field-label">
        <input
          id={labelId}
          className="input"
          value={node.data.label}
          placeholder={info.ui.defaultLabel}
          onChange={(e) => setLabel(node.id, e.target.value)}
        />
      </Field>
      {fields.map((field) => {
        const group = groups.find((g) => g.includes(field.key));
        if (group && group[0] !== field.key) return null;
        const control = (f: FormField) => (
          <FieldControl
            key={`${node.id}:${f.key}`}
            nodeId={node.id}
            field={f}
            config={config}
            errors={errorsFor(f.key)}
            onChange={(patch) => setConfig(node.id, patch)}
          />
        );
        return group ? (
          <ChoiceField key={`${node.id}:${group.join('|')}`} node={node} fields={fields.filter((f) => group.includes(f.key))} config={config} info={info}>
            {control}
          </ChoiceField>
        ) : (
          control(field)
        );
      })}
      {fields.length === 0 && info.kind === 'trigger' && (
        <p className="muted">Every run starts here. Connect it to the first step of your workflow.</p>
      )}
      {info.kind === 'trigger' && info.type !== 'start' && <TriggerPanel node={node} />}
      <PinnedOutput node={node} />
      {info.ui.errorHandling && <ErrorHandling node={node} issues={issues} />}
      <div className="inspector__footer">
        <span className="muted small mono">id: {node.id}</span>
        <button type="button" className="button button--danger-ghost button--small" onClick={deleteSelection}>
          <Icon name="trash" size={14} /> Delete step
        </button>
      </div>
    </>
  );
}

const isSet = (value: unknown) => value !== undefined && value !== null;

/**
 * Fields of which exactly one is set (a schedule's Cron or Every), as one choice: picking one removes the other,
 * whose value is remembered while the form is open so switching back restores it.
 */
function ChoiceField({
  node,
  info,
  fields,
  config,
  children,
}: {
  node: FlowNode;
  info: NodeTypeInfo;
  fields: FormField[];
  config: Record<string, unknown>;
  children: (field: FormField) => ReactNode;
}) {
  const setConfig = useBuilder((s) => s.setConfig);
  const active = fields.find((f) => isSet(config[f.key])) ?? fields[0]!;
  const remembered = useRef<Record<string, unknown>>({});
  const pick = (field: FormField) => {
    if (field.key === active.key) return;
    remembered.current[active.key] = config[active.key];
    const placeholder = field.ui.placeholder ?? '';
    const fallback = info.ui.defaults[field.key] ?? (field.ui.widget === 'number' && placeholder !== '' ? Number(placeholder) : '');
    const patch: Record<string, unknown> = Object.fromEntries(fields.map((f) => [f.key, undefined]));
    patch[field.key] = remembered.current[field.key] ?? fallback;
    setConfig(node.id, patch);
  };
  return (
    <div className="choice-field" data-testid={`choice-${fields.map((f) => f.key).join('-')}`}>
      <div className="segmented" role="radiogroup" aria-label={fields.map((f) => f.ui.label).join(' or ')}>
        {fields.map((f) => (
          <button
            key={f.key}
            type="button"
            role="radio"
            aria-checked={f.key === active.key}
            className={`segmented__option${f.key === active.key ? ' is-active' : ''}`}
            onClick={() => pick(f)}
            data-testid={`choice-${f.key}`}
          >
            {f.ui.label}
          </button>
        ))}
      </div>
      {children(active)}
    </div>
  );
}

/** How the workflow starts, changed in place: the steps after the trigger stay connected. */
function ChangeTrigger({ node, info }: { node: FlowNode; info: NodeTypeInfo }) {
  const triggers = useCatalogue().types.filter((t) => t.kind === 'trigger');
  const replaceTrigger = useBuilder((s) => s.replaceTrigger);
  const labelId = useId();
  if (triggers.length < 2) return null;
  return (
    <div className="field change-trigger" data-testid="change-trigger">
      <span className="field__label" id={labelId}>
        Change trigger
      </span>
      <div className="segmented" role="radiogroup" aria-labelledby={labelId}>
        {triggers.map((t) => (
          <button
            key={t.type}
            type="button"
            role="radio"
            aria-checked={t.type === info.type}
            className={`segmented__option${t.type === info.type ? ' is-active' : ''}`}
            title={t.description}
            onClick={() => t.type !== info.type && replaceTrigger(node.id, t.type)}
            data-testid={`change-trigger-${t.type}`}
          >
            {t.title}
          </button>
        ))}
      </div>
    </div>
  );
}

/** Retries and what a failure does, drawn from the server's settings schema and written to `data.settings`. */
function ErrorHandling({ node, issues }: { node: FlowNode; issues: readonly Issue[] }) {
  const schema = useCatalogue().settingsSchema;
  const fields = settingFields(schema);
  const settings = isPlainObject(node.data.settings) ? node.data.settings : undefined;
  const [open, setOpen] = useState(settings !== undefined);
  const bodyId = useId();
  const errors = issues.filter((i) => i.field?.startsWith('settings.'));
  const groups: { name: string | null; fields: SettingField[] }[] = [];
  for (const field of fields) {
    const last = groups.at(-1);
    if (last && last.name === field.group) last.fields.push(field);
    else groups.push({ name: field.group, fields: [field] });
  }

  return (
    <section className={`settings${errors.length > 0 ? ' settings--invalid' : ''}`} data-testid="error-handling">
      <button
        type="button"
        className="settings__toggle"
        aria-expanded={open || errors.length > 0}
        aria-controls={bodyId}
        onClick={() => setOpen(!open)}
        data-testid="error-handling-toggle"
      >
        <Icon name={open || errors.length > 0 ? 'chevronDown' : 'chevronUp'} size={14} />
        <span className="settings__title">Error handling</span>
        <span className="settings__summary">{summaryOf(fields, settings)}</span>
      </button>
      {(open || errors.length > 0) && (
        <div className="settings__body" id={bodyId}>
          {groups.map((group) => (
            <div key={group.name ?? '-'} className="settings__group">
              {group.name && <h4 className="settings__group-title">{group.name}</h4>}
              {group.fields.map((field) => (
                <SettingControl
                  key={field.key}
                  nodeId={node.id}
                  field={field}
                  value={valueAt(settings, field.path)}
                  errors={dedupe(errors.filter((i) => i.field === field.key).map((i) => i.message))}
                />
              ))}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** "3 attempts · continue on error", from the values set (or the schema's defaults). */
function summaryOf(fields: readonly SettingField[], settings: Record<string, unknown> | undefined): string {
  if (!settings) return 'Defaults';
  const set = fields.filter((f) => valueAt(settings, f.path) !== undefined);
  return set.map((f) => `${f.label.replace(/ \(ms\)$/, '')}: ${String(valueAt(settings, f.path))}`).join(' · ') || 'Defaults';
}

function SettingControl({ nodeId, field, value, errors }: { nodeId: string; field: SettingField; value: unknown; errors: string[] }) {
  const id = useId();
  const setSetting = useBuilder((s) => s.setSetting);
  const setDraftError = useBuilder((s) => s.setDraftError);
  const [text, setText] = useState(value === undefined ? '' : String(value));
  const testId = `setting-${field.path.join('.')}`;
  const set = (next: unknown) => setSetting(nodeId, field.path, next);
  useEffect(() => {
    // Follow outside changes (undo) unless the text already means this value.
    const meant = text.trim() === '' ? undefined : field.kind === 'text' ? text : Number(text);
    if (meant !== value) setText(value === undefined ? '' : String(value));
  }, [value, nodeId]);
  useEffect(() => () => setDraftError(nodeId, field.key, null), [nodeId, field.key, setDraftError]);

  if (field.kind === 'enum')
    return (
      <Field label={field.label} errors={errors} hint={field.help ?? undefined} testId={testId}>
        <div className="segmented" role="radiogroup" aria-label={field.label}>
          {field.options.map((option) => {
            const current = (value ?? field.default) === option;
            return (
              <button
                key={option}
                type="button"
                role="radio"
                aria-checked={current}
                className={`segmented__option${current ? ' is-active' : ''}`}
                onClick={() => set(option === field.default ? undefined : option)}
                data-testid={`${testId}-${option}`}
              >
                {option.charAt(0).toUpperCase() + option.slice(1)}
              </button>
            );
          })}
        </div>
      </Field>
    );
  if (field.kind === 'boolean')
    return (
      <div className="field field--inline" data-testid={testId}>
        <div className="field__switch-row">
          <label className="field__label" htmlFor={id}>
            {field.label}
          </label>
          <Switch id={id} checked={(value ?? field.default) === true} label={field.label} onChange={(next) => set(next)} />
        </div>
      </div>
    );

  const change = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setDraftError(nodeId, field.key, null);
      set(undefined);
      return;
    }
    const parsed = Number(next);
    if (field.kind !== 'text' && !Number.isFinite(parsed)) {
      setDraftError(nodeId, field.key, `${field.label} must be a number`);
      return;
    }
    setDraftError(nodeId, field.key, null);
    set(field.kind === 'text' ? next : parsed);
  };
  return (
    <Field label={field.label} htmlFor={id} errors={errors} testId={testId} hint={field.help ?? undefined}>
      <input
        id={id}
        className="input"
        type="text"
        inputMode={field.kind === 'integer' ? 'numeric' : 'decimal'}
        value={text}
        placeholder={field.default === undefined ? undefined : String(field.default)}
        aria-invalid={errors.length > 0}
        onChange={(e) => change(e.target.value)}
      />
    </Field>
  );
}

function UnknownNode({ node }: { node: FlowNode }) {
  const deleteSelection = useBuilder((s) => s.deleteSelection);
  return (
    <div className="inspector__section">
      <h2 className="panel-title">Unknown node type</h2>
      <p className="muted">
        This server does not know the node type <code>{node.type}</code>, so the step cannot run. Delete it, or import the
        workflow into a server that has it.
      </p>
      <button type="button" className="button button--danger-ghost button--small" onClick={deleteSelection}>
        <Icon name="trash" size={14} /> Delete step
      </button>
    </div>
  );
}

function WorkflowForm() {
  const meta = useBuilder((s) => s.meta);
  const setMeta = useBuilder((s) => s.setMeta);
  const selectOnly = useBuilder((s) => s.selectOnly);
  const openCredentials = useBuilder((s) => s.setCredentialsOpen);
  const serverCheck = useBuilder((s) => s.serverCheck);
  const credentials = useBuilder((s) => s.credentials.status);
  const catalogue = useCatalogue();
  const issues = useContext(IssuesContext);
  const doc = useDocument();
  const nameId = useId();
  const descriptionId = useId();
  const errorWorkflowFieldId = useId();
  const self = useWorkflows((s) => s.binding?.workflowId ?? null);
  // "Ready" is a promise: only once the server has passed this version and every credential name is known.
  const checking = serverCheck === 'pending' || credentials === 'idle' || credentials === 'loading';

  return (
    <div className="inspector__section">
      <h2 className="panel-title">Workflow</h2>
      <Field label="Name" htmlFor={nameId} errors={[]}>
        <input id={nameId} className="input" value={meta.name} onChange={(e) => setMeta({ name: e.target.value })} />
      </Field>
      <Field label="Description" htmlFor={descriptionId} errors={[]}>
        <textarea
          id={descriptionId}
          className="input textarea"
          rows={3}
          value={meta.description ?? ''}
          placeholder="What does this workflow do?"
          onChange={(e) => setMeta({ description: e.target.value })}
        />
      </Field>
      <Field
        label="Error workflow"
        htmlFor={errorWorkflowFieldId}
        errors={[]}
        hint="Runs when a run of this workflow fails. Saved with the workflow."
        testId="field-errorWorkflow"
      >
        <WorkflowPicker
          id={errorWorkflowFieldId}
          value={meta.errorWorkflowId ?? null}
          onChange={(id) => setMeta({ errorWorkflowId: id ?? undefined })}
          exclude={self}
          noneLabel="None"
          testId="error-workflow-picker"
        />
      </Field>
      <WorkflowInputs />
      <ExposeAsTool />
      <h3 className="section-title">Checks</h3>
      {issues.length > 0 ? (
        <ul className="issue-list" data-testid="issue-list">
          {issues.map((issue: Issue, index) => (
            <li key={`${issue.nodeId ?? ''}-${issue.field ?? ''}-${index}`}>
              {issue.nodeId ? (
                <button type="button" className="issue-list__item" onClick={() => selectOnly(issue.nodeId ?? null)}>
                  <Icon name="alert" size={14} /> {describeIssue(issue, doc, catalogue)}
                </button>
              ) : (
                <span className="issue-list__item">
                  <Icon name="alert" size={14} /> {issue.message}
                </span>
              )}
              {issue.action?.kind === 'addCredential' && (
                <button
                  type="button"
                  className="link-button issue-list__action"
                  onClick={() => openCredentials(true, issue.action?.name)}
                  data-testid="issue-add-credential"
                >
                  Add “{issue.action.name}”
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : checking ? (
        <p className="callout" data-testid="checks-pending">
          Checking with the server…
        </p>
      ) : serverCheck === 'unavailable' || credentials === 'error' ? (
        <p className="callout callout--warn" data-testid="checks-unavailable">
          <Icon name="alert" size={14} />
          {serverCheck === 'unavailable'
            ? 'The builder’s checks pass, but the server could not be asked.'
            : 'The checks pass, but the stored credentials could not be listed.'}
        </p>
      ) : (
        <p className="callout callout--ok" data-testid="checks-ok">
          <Icon name="check" size={14} /> Ready to run.
        </p>
      )}
      <p className="muted small">Select a step on the canvas to edit it.</p>
    </div>
  );
}

const dedupe = (messages: string[]) => [...new Set(messages)];
