// How a step's output, request and response read: shared by a step's attempts and a loop item's result.

import type { ReactNode } from 'react';
import type { StepRequest } from '../api/types';
import { prettyBody, responseOf, type Response } from '../run/attempts';

/** An output as it reads best: an HTTP response as status, headers and body; anything else as JSON. */
export function OutputView({ output, last = true, testId = 'step-output' }: { output: unknown; last?: boolean; testId?: string }) {
  const response = responseOf(output);
  if (response) return <ResponseView response={response} last={last} />;
  if (output === null || output === undefined) return null;
  return (
    <Section title="Output" testId={testId}>
      <Body value={output} />
    </Section>
  );
}

export function Section({ title, aside, children, testId }: { title: string; aside?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="attempt__section" data-testid={testId}>
      <h4 className="attempt__section-title">
        {title}
        {aside}
      </h4>
      {children}
    </section>
  );
}

/** Bodies are cut at 64 KiB; an earlier attempt keeps only the first 4 KiB of its own. */
const cutNotice = (last: boolean) =>
  last ? 'The body was cut at 64 KiB; this is its start.' : 'An earlier attempt keeps only the start of its body (4 KiB).';

export function RequestView({ request, last }: { request: StepRequest; last: boolean }) {
  return (
    <Section title="Request" testId="step-request">
      <p className="attempt__line mono" data-testid="request-line">
        <span className="attempt__method">{request.method}</span> <span className="attempt__url">{request.url}</span>
      </p>
      <Headers headers={request.headers} />
      {request.body !== null && request.body !== undefined && request.body !== '' && <Body value={request.body} testId="request-body" />}
      {request.truncated && <p className="attempt__cut">{cutNotice(last)}</p>}
    </Section>
  );
}

export function ResponseView({ response, last }: { response: Response; last: boolean }) {
  const ok = response.status >= 200 && response.status < 400;
  return (
    <Section
      title="Response"
      testId="step-response"
      aside={
        <span className={`http-status${ok ? '' : ' http-status--error'}`} data-testid="response-status">
          {response.status}
        </span>
      }
    >
      <Headers headers={response.headers} />
      {response.body === null || response.body === undefined || response.body === '' ? (
        <p className="muted small">Empty body.</p>
      ) : (
        <Body value={response.body} testId="response-body" />
      )}
      {response.truncated && (
        <p className="attempt__cut" data-testid="response-truncated">
          {cutNotice(last)}
        </p>
      )}
    </Section>
  );
}

function Headers({ headers }: { headers: Record<string, unknown> }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return null;
  return (
    <details className="attempt__headers">
      <summary>
        {entries.length} header{entries.length === 1 ? '' : 's'}
      </summary>
      <dl>
        {entries.map(([name, value]) => (
          <div key={name} className="attempt__header-row">
            <dt>{name}</dt>
            <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

export function Body({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre className="code-block" data-testid={testId}>
      {prettyBody(value)}
    </pre>
  );
}
