// A loop step's items, or a body step's run in each of them, one at a time: pick an item (previous / next, jump to
// an index, or from the strip of its neighbours) and see how it went and what it gave. Items are fetched a page at a
// time as they are picked (app/itemsController.ts), never all at once.

import { useEffect, useState, type FormEvent } from 'react';
import type { ItemProgress, StepItem } from '../api/types';
import { useServices } from '../app/services';
import { formatDuration } from '../run/format';
import { emptyPager, itemAt, parseIndex, stripAround } from '../run/itemPager';
import type { StepView } from '../run/runState';
import { useBuilder } from '../store/hooks';
import { ItemsCount } from './ItemsCount';
import { OutputView } from './OutputView';
import { StatusBadge } from './WorkflowNode';

const NO_PAGER = emptyPager();

export function ItemPicker({ runId, step, items }: { runId: string; step: StepView; items: ItemProgress }) {
  const { items: controller, runs } = useServices();
  const pager = useBuilder((s) => s.itemPagers[step.id]) ?? NO_PAGER;
  const { index } = pager;
  const { total, done } = items;
  const [draft, setDraft] = useState<string | null>(null);

  // The picked item's page, fetched when missing, and again (at most once a second) while its items finish.
  useEffect(() => controller.refresh(step.id), [controller, runId, step.id, done, index]);

  if (total === 0) return <p className="muted small" data-testid="item-picker-empty">The loop had no items.</p>;

  const pick = (next: number) => {
    setDraft(null);
    controller.pick(step.id, next);
  };
  const invalid = draft !== null && parseIndex(draft, total) === null;
  const jump = (event: FormEvent) => {
    event.preventDefault();
    if (draft === null) return;
    const next = parseIndex(draft, total);
    if (next !== null) pick(next);
  };
  const item = itemAt(pager, index);

  return (
    <section className="item-picker" aria-label="Items" data-testid="item-picker">
      <header className="item-picker__header">
        <h4 className="attempt__section-title">Items</h4>
        <ItemsCount items={items} />
      </header>
      <form className="item-picker__nav" onSubmit={jump}>
        <button
          type="button"
          className="icon-button item-picker__step"
          aria-label="Previous item"
          disabled={index <= 0}
          onClick={() => pick(index - 1)}
          data-testid="item-prev"
        >
          ‹
        </button>
        <label className="item-picker__jump">
          Item
          <input
            className="input input--mono item-picker__index"
            inputMode="numeric"
            value={draft ?? String(index)}
            aria-invalid={invalid || undefined}
            aria-describedby={`item-range-${step.id}`}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={() => {
              if (draft !== null && !invalid) pick(parseIndex(draft, total)!);
            }}
            data-testid="item-index"
          />
        </label>
        <span className="muted small" id={`item-range-${step.id}`} title={`Items are numbered from 0 to ${total - 1}, as loop.index numbers them`}>
          of {total}
        </span>
        <button
          type="button"
          className="icon-button item-picker__step"
          aria-label="Next item"
          disabled={index >= total - 1}
          onClick={() => pick(index + 1)}
          data-testid="item-next"
        >
          ›
        </button>
      </form>
      {invalid && (
        <p className="field__error" role="alert">
          Pick an item from 0 to {total - 1}.
        </p>
      )}
      <ol className="item-picker__strip" aria-label="Items around the one picked">
        {stripAround(index, total).map((i) => {
          const around = itemAt(pager, i);
          return (
            <li key={i}>
              <button
                type="button"
                className={`item-chip status--${around?.status ?? 'unknown'}${i === index ? ' is-current' : ''}`}
                aria-current={i === index ? 'true' : undefined}
                title={`Item ${i}${around ? `: ${around.status}` : ''}`}
                onClick={() => pick(i)}
                data-testid={`item-chip-${i}`}
                data-status={around?.status}
              >
                {i}
              </button>
            </li>
          );
        })}
      </ol>
      {pager.error ? (
        <p className="attempt__error" role="alert" data-testid="item-error-loading">
          {pager.error}{' '}
          <button type="button" className="link-button" onClick={() => pick(index)}>
            Try again
          </button>
        </p>
      ) : item ? (
        <ItemResult item={item} isLoop={step.type === 'loop'} openRun={runs.openRun} />
      ) : (
        <p className="muted small" data-testid="item-loading">
          Loading item {index}…
        </p>
      )}
    </section>
  );
}

function ItemResult({ item, isLoop, openRun }: { item: StepItem; isLoop: boolean; openRun: (runId: string) => void }) {
  const note =
    item.status === 'queued'
      ? 'Not started yet.'
      : item.status === 'running'
        ? 'Running…'
        : item.status === 'waiting'
          ? 'Waiting (a delay, a retry or an answer): open its run to see, or answer, what it waits for.'
        : item.status === 'skipped'
          ? 'Not reached in this item (a branch not taken, or an earlier step failed).'
          : null;
  return (
    <article className="attempt item-result" data-testid="item-result" data-index={item.index} data-status={item.status}>
      <header className="attempt__header">
        <span className="attempt__title">Item {item.index}</span>
        <StatusBadge status={item.status} testId="item-status" />
        {item.durationMs !== null && item.durationMs !== undefined && (
          <span className="muted small">{formatDuration(item.durationMs)}</span>
        )}
        {item.runId && (
          <button
            type="button"
            className="link-button item-result__run"
            onClick={() => openRun(item.runId!)}
            title={`Open the item's own run (${item.runId}): each of its steps, attempt by attempt`}
            data-testid="open-item-run"
          >
            Open its run
          </button>
        )}
      </header>
      {note && <p className="muted small">{note}</p>}
      {item.error && (
        <p className="attempt__error" role="alert" data-testid="item-error">
          {item.error}
        </p>
      )}
      <OutputView output={item.output} testId="item-output" />
      {isLoop && item.output !== null && item.output !== undefined && (
        <p className="muted small">The output of the body’s last step in this item.</p>
      )}
    </article>
  );
}
