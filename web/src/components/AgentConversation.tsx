// An agent step's conversation, call by call: what the model said and which tools it asked for, then each tool call
// with its arguments and result (a workflow tool's call links to its own run). Drawn from the step's `calls`.

import type { StepCall } from '../api/types';
import { formatDuration } from '../run/format';
import { Body, Section } from './OutputView';
import { RunLink } from './RunLinks';
import { StatusBadge } from './WorkflowNode';

export function AgentConversation({ calls }: { calls: readonly StepCall[] }) {
  const turns = calls.filter((call) => call.kind !== 'tools');
  const lookups = calls.filter((call) => call.kind === 'tools');
  return (
    <section className="agent-turns" aria-label="The agent's conversation" data-testid="agent-turns">
      <h4 className="section-title">Conversation</h4>
      {lookups.some((call) => call.status === 'failed') && (
        <p className="attempt__error" role="alert">
          {lookups.find((call) => call.status === 'failed')?.error}
        </p>
      )}
      <ol className="agent-turns__list">
        {turns.map((call) => (
          <li key={call.id} className={`agent-turn agent-turn--${call.kind}`} data-testid={`agent-call-${call.id}`}>
            {call.kind === 'model' ? <ModelCall call={call} /> : <ToolCall call={call} />}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Header({ call, title }: { call: StepCall; title: string }) {
  return (
    <header className="agent-turn__header">
      <span className="agent-turn__title">{title}</span>
      <StatusBadge status={call.status} />
      {call.durationMs !== null && <span className="muted small">{formatDuration(call.durationMs)}</span>}
    </header>
  );
}

function ModelCall({ call }: { call: StepCall }) {
  const asked = call.toolCalls ?? [];
  const tokens = call.usage ? (call.usage.promptTokens ?? 0) + (call.usage.completionTokens ?? 0) : null;
  return (
    <>
      <Header call={call} title={`Model, turn ${call.turn}`} />
      {call.text && <p className="agent-turn__text" data-testid="agent-model-text">{call.text}</p>}
      {asked.length > 0 && (
        <p className="muted small">
          Asked for {asked.map((tool) => (typeof tool.name === 'string' ? tool.name : '?')).join(', ')}
        </p>
      )}
      {call.error && (
        <p className="attempt__error" role="alert">
          {call.error}
        </p>
      )}
      {tokens !== null && <p className="muted small">{tokens} tokens</p>}
    </>
  );
}

function ToolCall({ call }: { call: StepCall }) {
  return (
    <>
      <Header call={call} title={`Tool ${call.name ?? ''}`} />
      {call.runId && (
        <p className="muted small run-link">
          Ran as run <RunLink runId={call.runId} testId={`agent-call-run-${call.id}`} />
        </p>
      )}
      <Section title="Arguments">
        <Body value={call.arguments} testId={`agent-arguments-${call.id}`} />
      </Section>
      {call.error ? (
        <p className="attempt__error" role="alert">
          {call.error}
        </p>
      ) : (
        call.status === 'succeeded' && (
          <Section title="Result">
            {call.outputRef ? (
              <p className="muted small">Large: kept apart from the run.</p>
            ) : (
              <Body value={call.output} testId={`agent-result-${call.id}`} />
            )}
          </Section>
        )
      )}
    </>
  );
}
