// How every node type looks on the canvas, drawn from its catalogue entry: glyph, accent, the summary line,
// one input handle if it takes input, and its outputs (one plain handle, or one labelled handle per branch).

import { Handle, Position, useUpdateNodeInternals, type NodeProps } from '@xyflow/react';
import { memo, useEffect } from 'react';
import type { StepStatus } from '../api/types';
import { isPlainObject } from '../graph/document';
import { hasBranches, outputHandles, summaryOf, type NodeTypeInfo } from '../graph/nodeTypes';
import { useIssuesOf } from '../app/services';
import { useBuilder, useCatalogue } from '../store/hooks';
import type { FlowNode } from '../store/store';
import { isPinned } from '../graph/pins';
import { Icon } from './icons';
import { ItemsCount } from './ItemsCount';
import { PIN_RULE } from './PinPanel';

export const STATUS_LABEL: Record<StepStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

export function StatusBadge({ status, testId, label }: { status: StepStatus; testId?: string; label?: string }) {
  return (
    <span className={`status status--${status}`} data-testid={testId} data-status={status}>
      <span className="status__dot" aria-hidden="true" />
      {label ?? STATUS_LABEL[status]}
    </span>
  );
}

/** A node whose type the server does not declare (an old file): drawn plainly so its edges still show. */
function unknownType(type: string): NodeTypeInfo {
  return {
    type,
    aliases: [],
    kind: 'action',
    title: type,
    description: '',
    version: 1,
    inputs: [{ id: 'in', label: '' }],
    outputs: [{ id: 'out', label: '' }],
    dynamicOutputs: null,
    configSchema: {},
    templatedFields: [],
    credentialFields: [],
    completes: 'worker',
    ui: { glyph: '?', accent: '#94a3b8', defaultLabel: type, summary: 'Unknown node type', fields: {}, errorHandling: false, idPrefix: 'node', defaults: {}, outputFields: {}, outputFieldsFrom: null },
  };
}

function WorkflowNodeView({ id, type, data, selected }: NodeProps<FlowNode>) {
  const catalogue = useCatalogue();
  const info = catalogue.get(type) ?? unknownType(type);
  const issues = useIssuesOf(id);
  const step = useBuilder((s) => (s.run?.onCanvas ? s.run.steps.find((st) => st.nodeId === id) : undefined));
  const config = isPlainObject(data.config) ? data.config : {};
  const branches = hasBranches(info);
  const outputs = outputHandles(info, config);
  // React Flow measures handles once; a switch whose cases change must be measured again, or its edges
  // would look for handles that are no longer where (or what) they were.
  const updateNodeInternals = useUpdateNodeInternals();
  const handleIds = outputs.map((h) => h.id).join('\u0000');
  useEffect(() => updateNodeInternals(id), [handleIds, id, updateNodeInternals]);
  const status = step?.status;
  const taken = step?.handles ?? null;
  const classes = ['wf-node', `wf-node--${info.kind}`];
  if (selected) classes.push('is-selected');
  if (issues.length > 0) classes.push('has-issues');
  if (status) classes.push(`is-${status}`);
  if (step?.errorHandled) classes.push('is-handled');
  // A trigger's pin is its sample payload (graph/pins.ts).
  const pinned = info.kind === 'trigger' ? data.samplePayload !== undefined : isPinned(data);
  if (pinned) classes.push('is-pinned');

  return (
    <div className={classes.join(' ')} data-testid={`node-${id}`} style={{ ['--accent' as string]: info.ui.accent }}>
      {info.inputs.length > 0 && <Handle type="target" position={Position.Left} id={info.inputs[0]!.id} className="wf-handle" />}
      <div className="wf-node__chip" aria-hidden="true">
        {info.ui.glyph}
      </div>
      <div className="wf-node__body">
        <div className="wf-node__kind">
          {info.title}
          {pinned && (
            <span className="wf-node__pin" data-testid={`pinned-${id}`} title={`Pinned: ${PIN_RULE}`}>
              <Icon name="pin" size={12} /> pinned
            </span>
          )}
        </div>
        <div className="wf-node__label">{data.label || info.ui.defaultLabel}</div>
        <div className="wf-node__summary" title={summaryOf(info, config)}>
          {summaryOf(info, config)}
        </div>
      </div>
      {branches && (
        <ul className="wf-node__outputs" aria-label="Outputs">
          {outputs.map((handle) => {
            const state = taken === null ? '' : taken.includes(handle.id) ? ' is-taken' : ' is-untaken';
            return (
              <li
                key={handle.id}
                className={`wf-node__output${state}`}
                data-testid={`output-${id}-${handle.id}`}
                data-taken={taken === null ? undefined : String(taken.includes(handle.id))}
              >
                <span className="wf-node__output-label" title={handle.label || handle.id}>
                  {handle.label || handle.id}
                </span>
                <Handle type="source" position={Position.Right} id={handle.id} className="wf-handle wf-handle--branch" />
              </li>
            );
          })}
        </ul>
      )}
      {(status || issues.length > 0) && (
        <div className="wf-node__footer">
          {status && (
            <StatusBadge
              status={status}
              testId={`badge-${id}`}
              label={step?.errorHandled ? 'Failed, went on' : step?.pinned ? 'Pinned, not run' : undefined}
            />
          )}
          {step?.items && <ItemsCount items={step.items} testId={`items-${id}`} />}
          {issues.length > 0 && (
            <span className="wf-node__issues" title={issues.map((i) => i.message).join('\n')} data-testid={`issues-${id}`}>
              {issues.length === 1 ? issues[0]!.message : `${issues.length} problems`}
            </span>
          )}
        </div>
      )}
      {!branches && outputs.length > 0 && (
        <Handle type="source" position={Position.Right} id={outputs[0]!.id} className="wf-handle" />
      )}
    </div>
  );
}

export const WorkflowNode = memo(WorkflowNodeView);
