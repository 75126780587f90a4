// What a webhook or schedule trigger needs beyond its form: its URL (with copy), when it fires next, and the sample
// payload a manual run uses. Fire times come from the server, which fires the schedule: cron is never parsed here.

import { useEffect, useId, useState } from 'react';
import { useServices, useWorkflows } from '../app/services';
import { isPlainObject } from '../graph/document';
import { labelOf, type NodeTypeInfo } from '../graph/nodeTypes';
import { useBuilder, useCatalogue } from '../store/hooks';
import { JsonText } from './JsonText';
import { PinMark } from './PinPanel';
import type { FlowNode } from '../store/store';

const PREVIEW_DELAY_MS = 300;

export function TriggerPanel({ node }: { node: FlowNode }) {
  const catalogue = useCatalogue();
  return (
    <>
      {node.type === 'webhook' && <WebhookUrl nodeId={node.id} />}
      {node.type === 'schedule' && (
        <SchedulePreview config={isPlainObject(node.data.config) ? node.data.config : {}} info={catalogue.get(node.type)} />
      )}
      <SamplePayload node={node} />
    </>
  );
}

function WebhookUrl({ nodeId }: { nodeId: string }) {
  const binding = useWorkflows((s) => s.binding);
  const pushToast = useBuilder((s) => s.pushToast);
  const path = binding?.triggers.find((t) => t.nodeId === nodeId)?.url;
  // The server reports it absolute (under AUTOMATEOS_PUBLIC_URL when set); a draft saved in this tab before that
  // may still hold the bare path, which is this page's origin's.
  const url = path ? (path.startsWith('/') ? `${window.location.origin}${path}` : path) : null;
  return (
    <section className="trigger-panel" aria-label="Webhook URL" data-testid="webhook-url-panel">
      <h3 className="trigger-panel__title">URL</h3>
      {url ? (
        <>
          <div className="copy-field">
            <input className="input input--mono" readOnly value={url} aria-label="Webhook URL" data-testid="webhook-url"
              onFocus={(e) => e.currentTarget.select()} />
            <button
              type="button"
              className="button button--small button--ghost"
              onClick={() =>
                void navigator.clipboard?.writeText(url).then(
                  () => pushToast('success', 'Webhook URL copied'),
                  () => pushToast('error', 'Couldn’t copy: select the URL and copy it'),
                )
              }
              data-testid="webhook-url-copy"
            >
              Copy
            </button>
          </div>
          <p className="muted small">
            {binding?.active ? `Answers POST requests (version ${binding.activeVersion}).` : 'Not answering yet: activate the workflow in Workflows.'}
          </p>
        </>
      ) : (
        <p className="muted small">Save the workflow to get its URL, then activate it in Workflows.</p>
      )}
    </section>
  );
}

type Preview = { kind: 'idle' } | { kind: 'ok'; times: string[] } | { kind: 'error'; message: string };

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function SchedulePreview({ config, info }: { config: Record<string, unknown>; info: NodeTypeInfo | undefined }) {
  const { api } = useServices();
  const [preview, setPreview] = useState<Preview>({ kind: 'idle' });
  const text = JSON.stringify(config);
  const zone = typeof config.timezone === 'string' && config.timezone ? config.timezone : 'UTC';

  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.previewSchedule(JSON.parse(text) as Record<string, unknown>, controller.signal).then(
        (times) => setPreview({ kind: 'ok', times }),
        (error: unknown) => {
          if (error instanceof DOMException && error.name === 'AbortError') return;
          const fields = (error as { fields?: { field: string; reason: string }[] }).fields ?? [];
          // Named as the form names them (Cron, Every), never by their config keys.
          const label = (field: string) => (info?.ui.fields[field] ? `${labelOf(info, field)}: ` : '');
          const message = fields.length > 0 ? fields.map((f) => `${label(f.field)}${capitalise(f.reason)}`).join('; ') : String(error);
          setPreview({ kind: 'error', message });
        },
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, text]);

  // Minutes are enough for most schedules; every 5 s would show three identical times, so then seconds too.
  const times = preview.kind === 'ok' ? preview.times : [];
  const timeStyle = times.some((t) => new Date(t).getUTCSeconds() !== 0) ? 'medium' : 'short';
  const inZone = (iso: string) => {
    try {
      return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle, timeZone: zone }).format(new Date(iso));
    } catch {
      return iso;
    }
  };
  const local = (iso: string) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle }).format(new Date(iso));
  return (
    <section className="trigger-panel" aria-label="Next runs" data-testid="schedule-preview">
      <h3 className="trigger-panel__title">Next runs</h3>
      {preview.kind === 'idle' && <p className="muted small">…</p>}
      {preview.kind === 'error' && (
        <p className="field__error" role="alert" data-testid="schedule-preview-error">
          {preview.message}
        </p>
      )}
      {preview.kind === 'ok' && (
        <ol className="next-runs">
          {preview.times.map((t) => (
            <li key={t} data-testid="schedule-next-run">
              <time dateTime={t}>{inZone(t)}</time> <span className="muted small">({zone}; {local(t)} here)</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function SamplePayload({ node }: { node: FlowNode }) {
  const setSample = useBuilder((s) => s.setSamplePayload);
  const id = useId();
  const example = node.type === 'webhook' ? '{"body": {"id": "evt_1"}, "headers": {}, "query": {}, "method": "POST"}' : '{"scheduledAt": "2026-12-02T09:00:00Z"}';
  return (
    <section className="trigger-panel" aria-label="Sample payload">
      <label className="trigger-panel__title" htmlFor={id}>
        <PinMark /> Sample payload
      </label>
      <p className="muted small">
        This trigger’s pin: what Run and Test step use here instead of a real {node.type === 'webhook' ? 'request' : 'tick'} (kept with the
        workflow). A real {node.type === 'webhook' ? 'request' : 'tick'} never uses it.
      </p>
      <JsonText
        id={id}
        valueKey={node.id}
        value={node.data.samplePayload}
        onChange={(sample) => setSample(node.id, sample)}
        placeholder={example}
        testId="sample-payload"
      />
    </section>
  );
}
