// Pins and Test step in the inspector: run one step alone against its ancestors' last outputs, keep a step's last
// output as its pinned sample, edit or unpin it. What a run sends is decided in graph/pins.ts.

import { useContext, useId, useState } from 'react';
import { roleBlocks, ServicesContext, useServices } from '../app/services';
import { isPlainObject } from '../graph/document';
import { isPinned } from '../graph/pins';
import { isTrigger } from '../graph/nodeTypes';
import { isTerminal, type StepView } from '../run/runState';
import { useBuilder, useCatalogue } from '../store/hooks';
import type { FlowNode } from '../store/store';
import { Icon } from './icons';
import { JsonText } from './JsonText';

/** Said beside every pin: which runs use it. */
export const PIN_RULE = 'Run and Test step in the builder use it instead of running the step; webhook and schedule runs never do.';

export function PinMark({ title }: { title?: string }) {
  return (
    <span className="pin-mark" title={title} aria-hidden={title ? undefined : true}>
      <Icon name="pin" size={13} />
    </span>
  );
}

/** The Test step button: the selected step runs alone (its ancestors pinned), and its output shows below. */
export function TestStep({ node }: { node: FlowNode }) {
  const { runs, session } = useServices();
  const blocked = roleBlocks(session, 'editor', 'Test step');
  const posting = useBuilder((s) => s.runPosting);
  const running = useBuilder((s) => s.run !== null && s.run.origin === 'canvas' && !isTerminal(s.run.status));
  return (
    <div className="pin-bar">
      <button
        type="button"
        className="button button--outline button--small"
        disabled={posting || running || blocked !== null}
        title={blocked ?? 'Runs this step alone: the steps before it use their pins, or their outputs from the last run, and are not run again'}
        onClick={() => void runs.testStep(node.id)}
        data-testid="test-step"
      >
        <Icon name="flask" size={14} /> Test step
      </button>
      {isPinned(node.data) && (
        <span className="pin-bar__state" data-testid="pinned-state">
          <PinMark /> Output pinned
        </span>
      )}
    </div>
  );
}

/** A pinned step's sample, on its Configure tab: edited as JSON, or unpinned. */
export function PinnedOutput({ node }: { node: FlowNode }) {
  const setPinned = useBuilder((s) => s.setPinned);
  const id = useId();
  if (!isPinned(node.data)) return null;
  return (
    <section className="pinned" aria-label="Pinned output" data-testid="pinned-output">
      <div className="pinned__header">
        <label className="pinned__title" htmlFor={id}>
          <PinMark /> Pinned output
        </label>
        <button type="button" className="link-button" onClick={() => setPinned(node.id, undefined)} data-testid="unpin">
          Unpin
        </button>
      </div>
      <p className="muted small">{PIN_RULE}</p>
      <JsonText
        id={id}
        valueKey={node.id}
        value={node.data.pinned}
        onChange={(value) => setPinned(node.id, value)}
        rows={8}
        testId="pinned-json"
      />
    </section>
  );
}

/**
 * "Pin this output", on a step's Last run tab: its output in that run becomes its pin (a trigger's, its sample
 * payload). A large output is read back whole first; a loop body step has one output per item and is not offered.
 */
export function PinFromRun({ node, step, runId }: { node: FlowNode; step: StepView; runId: string | undefined }) {
  const api = useContext(ServicesContext)?.api;
  const setPinned = useBuilder((s) => s.setPinned);
  const setSample = useBuilder((s) => s.setSamplePayload);
  const pushToast = useBuilder((s) => s.pushToast);
  const [busy, setBusy] = useState(false);
  const trigger = isTrigger(useCatalogue().get(node.type ?? ''));
  // Only the webhook's and the schedule's sample payload stand in for what starts a run.
  if (step.status !== 'succeeded' || step.items !== null || (trigger && node.type !== 'webhook' && node.type !== 'schedule')) return null;
  const pinned = trigger ? node.data.samplePayload !== undefined : isPinned(node.data);

  const pin = async () => {
    let output = step.output;
    if (step.outputRef) {
      if (!api || !runId) return;
      setBusy(true);
      try {
        output = (await api.getStepOutput(runId, step.id)).output;
      } catch (error) {
        pushToast('error', `Could not read the output to pin: ${error instanceof Error ? error.message : String(error)}`);
        return;
      } finally {
        setBusy(false);
      }
    }
    if (trigger) {
      // A trigger's output is the run's inputs; its pin is the payload in them.
      const payload = isPlainObject(output) ? output.payload : undefined;
      if (payload === undefined) {
        pushToast('error', 'This run’s trigger has no payload to pin');
        return;
      }
      setSample(node.id, payload);
    } else setPinned(node.id, output ?? null);
    pushToast('success', `Pinned the output of ${node.data.label || node.id}`);
  };
  return (
    <div className="pin-from-run">
      <button type="button" className="button button--outline button--small" disabled={busy} onClick={() => void pin()} data-testid="pin-output">
        <Icon name="pin" size={14} /> {pinned ? 'Pin this output instead' : 'Pin this output'}
      </button>
      <p className="muted small">{trigger ? 'Keeps this payload as the trigger’s sample payload.' : PIN_RULE}</p>
    </div>
  );
}
