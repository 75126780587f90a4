// The right-hand panel: the selected step's form (generated from its declaration), or the workflow's
// details and open problems when nothing is selected.

import { useContext, useId } from 'react';
import { IssuesContext } from '../app/services';
import { isPlainObject } from '../graph/document';
import { definitionOf } from '../graph/nodeTypes';
import { describeIssue, type Issue } from '../graph/validate';
import { useBuilder, useBuilderShallow, useDocument } from '../store/hooks';
import type { FlowNode } from '../store/store';
import { Field, ParameterControl } from './controls';
import { Icon } from './icons';

export function Inspector() {
  const selected = useBuilderShallow((s) => s.nodes.filter((n) => n.selected));
  const selectedEdges = useBuilder((s) => s.edges.filter((e) => e.selected).length);
  const deleteSelection = useBuilder((s) => s.deleteSelection);

  let content;
  if (selected.length === 1) content = <NodeForm node={selected[0]!} />;
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
    <aside className="inspector" aria-label="Inspector" data-testid="inspector">
      {content}
    </aside>
  );
}

function NodeForm({ node }: { node: FlowNode }) {
  const definition = definitionOf(node.type ?? '');
  const issues = useContext(IssuesContext).filter((i) => i.nodeId === node.id);
  const setLabel = useBuilder((s) => s.setLabel);
  const setConfig = useBuilder((s) => s.setConfig);
  const deleteSelection = useBuilder((s) => s.deleteSelection);
  const labelId = useId();
  if (!definition) return null;
  const config = isPlainObject(node.data.config) ? node.data.config : {};
  const errorsFor = (field: string) => dedupe(issues.filter((i) => i.field === field).map((i) => i.message));
  const general = dedupe(issues.filter((i) => !i.field).map((i) => i.message));

  return (
    <div className="inspector__section" key={node.id}>
      <div className="inspector__header" style={{ ['--accent' as string]: definition.accent }}>
        <span className="wf-node__chip" aria-hidden="true">
          {definition.glyph}
        </span>
        <div>
          <h2 className="panel-title">{definition.title}</h2>
          <p className="muted small">{definition.description}</p>
        </div>
      </div>
      {general.length > 0 && (
        <ul className="callout callout--error" data-testid="node-issues">
          {general.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      <Field label="Name" htmlFor={labelId} errors={errorsFor('label')} testId="field-label">
        <input
          id={labelId}
          className="input"
          value={node.data.label}
          placeholder={definition.defaultLabel}
          onChange={(e) => setLabel(node.id, e.target.value)}
        />
      </Field>
      {definition.parameters.map((parameter) => (
        <ParameterControl
          key={`${node.id}:${parameter.key}`}
          nodeId={node.id}
          parameter={parameter}
          config={config}
          errors={errorsFor(parameter.key)}
          onChange={(patch) => setConfig(node.id, patch)}
        />
      ))}
      {definition.parameters.length === 0 && (
        <p className="muted">Every run starts here. Connect it to the first step of your workflow.</p>
      )}
      <div className="inspector__footer">
        <span className="muted small mono">id: {node.id}</span>
        <button type="button" className="button button--danger-ghost button--small" onClick={deleteSelection}>
          <Icon name="trash" size={14} /> Delete step
        </button>
      </div>
    </div>
  );
}

function WorkflowForm() {
  const meta = useBuilder((s) => s.meta);
  const setMeta = useBuilder((s) => s.setMeta);
  const selectOnly = useBuilder((s) => s.selectOnly);
  const issues = useContext(IssuesContext);
  const doc = useDocument();
  const nameId = useId();
  const descriptionId = useId();

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
      <h3 className="section-title">Checks</h3>
      {issues.length === 0 ? (
        <p className="callout callout--ok" data-testid="checks-ok">
          <Icon name="check" size={14} /> Ready to run.
        </p>
      ) : (
        <ul className="issue-list" data-testid="issue-list">
          {issues.map((issue: Issue, index) => (
            <li key={`${issue.nodeId ?? ''}-${issue.field ?? ''}-${index}`}>
              {issue.nodeId ? (
                <button type="button" className="issue-list__item" onClick={() => selectOnly(issue.nodeId ?? null)}>
                  <Icon name="alert" size={14} /> {describeIssue(issue, doc)}
                </button>
              ) : (
                <span className="issue-list__item">
                  <Icon name="alert" size={14} /> {issue.message}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">Select a step on the canvas to edit it.</p>
    </div>
  );
}

const dedupe = (messages: string[]) => [...new Set(messages)];
