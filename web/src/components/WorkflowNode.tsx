// How every node type looks on the canvas; what it shows comes from its declaration.

import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { StepStatus } from '../api/types';
import { isPlainObject } from '../graph/document';
import { definitionOf } from '../graph/nodeTypes';
import { useIssuesOf } from '../app/services';
import { useBuilder } from '../store/hooks';
import type { FlowNode } from '../store/store';

export const STATUS_LABEL: Record<StepStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

export function StatusBadge({ status, testId }: { status: StepStatus; testId?: string }) {
  return (
    <span className={`status status--${status}`} data-testid={testId} data-status={status}>
      <span className="status__dot" aria-hidden="true" />
      {STATUS_LABEL[status]}
    </span>
  );
}

function WorkflowNodeView({ id, type, data, selected }: NodeProps<FlowNode>) {
  const definition = definitionOf(type);
  const issues = useIssuesOf(id);
  const status = useBuilder((s) => {
    const run = s.run;
    if (!run || !run.onCanvas) return undefined;
    return run.steps.find((step) => step.nodeId === id)?.status;
  });
  if (!definition) return null;
  const config = isPlainObject(data.config) ? data.config : {};
  const classes = ['wf-node', `wf-node--${type}`];
  if (selected) classes.push('is-selected');
  if (issues.length > 0) classes.push('has-issues');
  if (status) classes.push(`is-${status}`);

  return (
    <div className={classes.join(' ')} data-testid={`node-${id}`} style={{ ['--accent' as string]: definition.accent }}>
      {definition.hasInput && <Handle type="target" position={Position.Left} className="wf-handle" />}
      <div className="wf-node__chip" aria-hidden="true">
        {definition.glyph}
      </div>
      <div className="wf-node__body">
        <div className="wf-node__kind">{definition.title}</div>
        <div className="wf-node__label">{data.label || definition.defaultLabel}</div>
        <div className="wf-node__summary">{definition.summary(config)}</div>
      </div>
      {(status || issues.length > 0) && (
        <div className="wf-node__footer">
          {status && <StatusBadge status={status} testId={`badge-${id}`} />}
          {issues.length > 0 && (
            <span className="wf-node__issues" title={issues.map((i) => i.message).join('\n')} data-testid={`issues-${id}`}>
              {issues.length === 1 ? issues[0]!.message : `${issues.length} problems`}
            </span>
          )}
        </div>
      )}
      {definition.hasOutput && <Handle type="source" position={Position.Right} className="wf-handle" />}
    </div>
  );
}

export const WorkflowNode = memo(WorkflowNodeView);
