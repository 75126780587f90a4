// A `code` field: the body of a JavaScript function in a real editor, with the variables it can read listed under
// it (a click puts one at the cursor). The editor itself (CodeMirror) loads on first use, as a chunk of its own.

import { Component, lazy, Suspense, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { codeVariables, type CodeVariable, type CodeVariableGroup } from '../graph/codeScope';
import { useCatalogue, useDocument } from '../store/hooks';
import type { CodeEditorHandle } from './CodeEditor';
import type { ControlProps } from './controls';
import { Icon } from './icons';

const CodeEditor = lazy(() => import('./CodeEditor'));

const GROUP_LABEL: Record<CodeVariableGroup, string> = { Run: 'Run', Steps: 'Steps before this one', Loop: 'Loop item' };

export function CodeControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const labelId = useId();
  const hintId = useId();
  const frame = useRef<HTMLDivElement>(null);
  const editor = useRef<CodeEditorHandle>(null);
  const fallback = useRef<HTMLTextAreaElement>(null);
  // Code reads badly at the inspector's 270–350 px: "Wider" widens the inspector while this field shows (styles.css).
  const [wide, setWide] = useState(false);
  const raw = config[field.key];
  const value = typeof raw === 'string' ? raw : '';
  const doc = useDocument();
  const catalogue = useCatalogue();
  const variables = useMemo(() => codeVariables(doc, catalogue, nodeId), [doc, catalogue, nodeId]);
  const set = (next: string) => onChange({ [field.key]: next });
  const hint = errors.length === 0 ? (field.ui.help ?? 'Tab indents; Escape leaves the editor.') : undefined;

  const insert = (v: CodeVariable) => {
    if (editor.current) editor.current.insert(v.expression);
    else if (fallback.current) {
      const el = fallback.current;
      const at = el.selectionEnd ?? el.value.length;
      set(el.value.slice(0, el.selectionStart ?? at) + v.expression + el.value.slice(at));
    }
  };

  // Escape put focus on the frame: Enter goes back in; Delete and Backspace there are not "delete the step".
  const onFrameKey = (e: KeyboardEvent) => {
    if (e.target !== frame.current) return;
    if (e.key === 'Enter') {
      e.preventDefault();
      editor.current?.focus();
    } else if (e.key === 'Delete' || e.key === 'Backspace') e.stopPropagation();
  };

  return (
    <div className={`field code-field${wide ? ' is-wide' : ''}${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <div className="field__label-row">
        <span className="field__label" id={labelId}>
          {field.ui.label}
        </span>
        <button
          type="button"
          className="button button--ghost button--small"
          aria-pressed={wide}
          title={wide ? 'Give the canvas its room back' : 'Widen the inspector to edit the code'}
          onClick={() => setWide(!wide)}
          data-testid={`code-wide-${field.key}`}
        >
          <Icon name={wide ? 'chevronRight' : 'chevronLeft'} size={13} />
          {wide ? 'Narrower' : 'Wider'}
        </button>
      </div>
      <div
        ref={frame}
        className="code-editor"
        tabIndex={-1}
        role="group"
        aria-labelledby={labelId}
        onKeyDown={onFrameKey}
        data-testid={`code-${field.key}`}
      >
        <EditorBoundary
          fallback={
            <textarea
              ref={fallback}
              className="input input--mono textarea code-editor__fallback"
              rows={10}
              aria-labelledby={labelId}
              value={value}
              spellCheck={false}
              onChange={(e) => set(e.target.value)}
              data-testid="code-input"
            />
          }
        >
          <Suspense fallback={<p className="code-editor__loading muted small">Loading the editor…</p>}>
            <CodeEditor
              ref={editor}
              value={value}
              onChange={set}
              onEscape={() => frame.current?.focus()}
              labelledBy={labelId}
              describedBy={hint ? hintId : undefined}
              invalid={errors.length > 0}
              placeholder={field.ui.placeholder ?? undefined}
            />
          </Suspense>
        </EditorBoundary>
      </div>
      {hint && (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      )}
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={`field-${field.key}-error`}>
          {message}
        </p>
      ))}
      <CodeVariables variables={variables} onPick={insert} />
    </div>
  );
}

function CodeVariables({ variables, onPick }: { variables: readonly CodeVariable[]; onPick: (v: CodeVariable) => void }) {
  const groups = (['Run', 'Steps', 'Loop'] as const).map((g) => ({ group: g, items: variables.filter((v) => v.group === g) }));
  return (
    <div className="code-vars" role="group" aria-label="Variables the code can read" data-testid="code-variables">
      <p className="code-vars__title">Variables · click to insert</p>
      {groups
        .filter((g) => g.items.length > 0)
        .map(({ group, items }) => (
          <div key={group} className="code-vars__group" role="group" aria-label={GROUP_LABEL[group]}>
            <p className="code-vars__heading">{GROUP_LABEL[group]}</p>
            {items.map((v) => (
              <button
                key={v.expression}
                type="button"
                className="code-vars__item"
                title={`Insert ${v.expression}: ${v.detail}`}
                // Keep the editor's selection: the click must not take focus first.
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => onPick(v)}
                data-testid="code-variable"
              >
                <span className="code-vars__name">{v.expression}</span>
                <span className="code-vars__detail">{v.detail}</span>
              </button>
            ))}
          </div>
        ))}
    </div>
  );
}

/** If the editor's chunk cannot be loaded (a new release replaced it, the network dropped), a plain text area. */
class EditorBoundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}
