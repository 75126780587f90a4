// The value of a templated field as you type, under the field: rendered by an engine (POST
// /v1/expressions/preview) against the last run of this graph, or the sample payload and pins.

import { useContext, useEffect, useState } from 'react';
import { ServicesContext } from '../app/services';
import { ApiError } from '../api/client';
import { previewable, previewContext, shownValue, type PreviewContext, type PreviewMode } from '../graph/preview';
import { useBuilder, useCatalogue, useDocument } from '../store/hooks';

const PREVIEW_DELAY_MS = 400;

/** What the builder knows and the engine does not: the workflow has never run, and its trigger has no sample. */
function hintFor(error: string, context: PreviewContext): string {
  const noSample = 'sample' in context && context.sample.payload === undefined;
  return noSample && /'payload[.'\[]/.test(error) ? ' — give the trigger a sample payload, or run the workflow once' : '';
}

type Shown = { kind: 'value'; text: string } | { kind: 'error'; text: string } | { kind: 'unavailable'; text: string } | null;

export function ExpressionPreview({ nodeId, text, mode = 'template', testId }: { nodeId: string; text: string; mode?: PreviewMode; testId?: string }) {
  const api = useContext(ServicesContext)?.api;
  const doc = useDocument();
  const catalogue = useCatalogue();
  const run = useBuilder((s) => s.run);
  const [shown, setShown] = useState<Shown>(null);
  const wanted = previewable(text, mode);
  // What the answer depends on, as one key: the text, and what it is rendered against.
  const context = wanted ? previewContext(doc, catalogue, nodeId, run) : null;
  const key = context ? JSON.stringify([text, mode, context]) : '';

  useEffect(() => {
    if (!api || !context) {
      setShown(null);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      api.previewExpression(text, context, mode, abort.signal).then(
        (answer) =>
          setShown('error' in answer ? { kind: 'error', text: answer.error + hintFor(answer.error, context) } : { kind: 'value', text: shownValue(answer.value) }),
        (error: unknown) => {
          if (abort.signal.aborted) return;
          const why = error instanceof ApiError && error.status !== 0 ? error.message : 'the server could not be asked';
          setShown({ kind: 'unavailable', text: `No preview: ${why}` });
        },
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [api, key]);

  if (!wanted || !shown) return null;
  const against = context && 'runId' in context ? 'in the last run' : 'with the sample and pins';
  return (
    <p className={`preview preview--${shown.kind}`} role="status" aria-live="polite" data-testid={testId} data-kind={shown.kind}>
      {shown.kind === 'value' ? (
        <>
          <span className="preview__label">= </span>
          <code className="preview__value">{shown.text}</code> <span className="preview__note">{against}</span>
        </>
      ) : (
        shown.text
      )}
    </p>
  );
}
