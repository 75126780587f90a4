// A waiting wait step: what it asks, until when, its resume URL (to hand to whoever answers), and for an approval,
// Approve / Reject for those whose role may answer. The full form is in the step's details; the run panel's row
// has the buttons alone, so a run waiting for someone can be answered from where it is watched.

import { useEffect, useState } from 'react';
import { roleBlocks, useServices } from '../app/services';
import { formatMoment, formatTimeLeft } from '../run/format';
import type { StepView } from '../run/runState';
import { useBuilder } from '../store/hooks';

/** The resume URL as someone outside can use it: absolute, under this page's origin when the server gave a path. */
export function absoluteUrl(resumeUrl: string, origin: string = window.location.origin): string {
  return new URL(resumeUrl, origin).href;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function WaitAnswer({ step }: { step: StepView }) {
  const wait = step.wait;
  const pushToast = useBuilder((s) => s.pushToast);
  const now = useNow(1000);
  if (!wait) return null;
  const url = step.resumeUrl ? absoluteUrl(step.resumeUrl) : null;
  const left = Date.parse(wait.timeoutAt) - now;
  const copy = () => {
    if (!url) return;
    const done = navigator.clipboard?.writeText(url) ?? Promise.reject(new Error('no clipboard'));
    done.then(
      () => pushToast('success', 'Resume URL copied'),
      () => pushToast('error', 'Couldn’t copy: select the URL and copy it yourself'),
    );
  };
  return (
    <section className="wait-answer" data-testid="wait-answer" data-mode={wait.mode} aria-label="Waiting for an answer">
      <h4 className="wait-answer__title">{wait.mode === 'approval' ? 'Waiting for approval' : 'Waiting for a callback'}</h4>
      {wait.message ? (
        <p className="wait-answer__message" data-testid="wait-message">
          {wait.message}
        </p>
      ) : (
        <p className="muted small">No message.</p>
      )}
      <p className="step-details__note" data-testid="wait-timeout">
        Times out <time dateTime={wait.timeoutAt}>{formatMoment(wait.timeoutAt, now)}</time>
        {Number.isFinite(left) && ` (in ${formatTimeLeft(left)})`}, then goes on from “timeout”.
      </p>
      {url && (
        <div className="wait-answer__url">
          <label className="wait-answer__label" htmlFor={`resume-url-${step.id}`}>
            Resume URL
          </label>
          <div className="input-group">
            <input
              id={`resume-url-${step.id}`}
              className="input input--mono input--small"
              readOnly
              value={url}
              onFocus={(e) => e.currentTarget.select()}
              data-testid="resume-url"
            />
            <button type="button" className="button button--ghost button--small" onClick={copy} data-testid="resume-url-copy">
              Copy
            </button>
          </div>
          <p className="muted small">
            {wait.mode === 'approval' ? (
              <>
                Whoever has this URL can answer, with no sign-in:{' '}
                <a href={url} target="_blank" rel="noopener noreferrer" data-testid="resume-url-open">
                  its approval page
                </a>
                , or a POST of {'{"approved": true}'} or {'{"approved": false}'}, with an optional "comment".
              </>
            ) : (
              'Whoever has this URL can resume the run, with no sign-in: POST JSON to it, and the step’s output is what was sent.'
            )}
          </p>
        </div>
      )}
      {!url && step.status === 'waiting' && (
        <p className="muted small" data-testid="resume-url-hidden">
          Its resume URL answers the step with no sign-in, so only editors and admins see it and may answer.
        </p>
      )}
      {wait.mode === 'approval' && step.resumeUrl && <ApprovalButtons step={step} withComment />}
    </section>
  );
}

/** Approve / Reject, disabled (saying why) for a role that may not answer, and while an answer is on its way. */
export function ApprovalButtons({ step, withComment = false, testPrefix = '' }: { step: StepView; withComment?: boolean; testPrefix?: string }) {
  const { runs, session } = useServices();
  const [sending, setSending] = useState(false);
  const [comment, setComment] = useState('');
  const blocked = roleBlocks(session, 'editor', 'Answering an approval');
  const answer = async (approved: boolean) => {
    setSending(true);
    try {
      await runs.answer(step.id, approved, comment.trim() || undefined);
    } finally {
      setSending(false);
    }
  };
  return (
    <div className="approval" data-testid={`${testPrefix}approval`}>
      {withComment && (
        <input
          className="input input--small approval__comment"
          placeholder="Comment (optional)"
          aria-label="Comment for the approval"
          value={comment}
          disabled={blocked !== null}
          onChange={(e) => setComment(e.target.value)}
          data-testid={`${testPrefix}approval-comment`}
        />
      )}
      <div className="approval__buttons">
        <button
          type="button"
          className="button button--primary button--small"
          disabled={blocked !== null || sending}
          title={blocked ?? `Approve ${step.name || step.nodeId}: the run goes on from “approved”`}
          onClick={() => void answer(true)}
          data-testid={`${testPrefix}approve`}
        >
          Approve
        </button>
        <button
          type="button"
          className="button button--danger-ghost button--small"
          disabled={blocked !== null || sending}
          title={blocked ?? `Reject ${step.name || step.nodeId}: the run goes on from “rejected”`}
          onClick={() => void answer(false)}
          data-testid={`${testPrefix}reject`}
        >
          Reject
        </button>
      </div>
      {blocked && <p className="muted small">{blocked}</p>}
    </div>
  );
}
