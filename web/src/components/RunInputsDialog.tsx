// Asked for when Run is pressed on a workflow that reads run inputs ({{payload.title}}, {{databaseId}}…):
// one field per input path, prefilled with what was typed last time (in memory only). Escape cancels.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useFocusTrap } from '../app/focus';
import { useClosesOnEscape, useServices } from '../app/services';
import { fieldsOf, INPUT_TYPE_LABELS, typedValue } from '../graph/inputFields';
import { buildInputs } from '../graph/variables';
import { useBuilder } from '../store/hooks';
import { Icon } from './icons';

export function RunInputsDialog() {
  const paths = useBuilder((s) => s.inputsPrompt);
  return paths ? <InputsForm key={paths.join('|')} paths={paths} /> : null;
}

function InputsForm({ paths }: { paths: string[] }) {
  const { runs } = useServices();
  const lastInputs = useBuilder((s) => s.lastInputs);
  const rememberInputs = useBuilder((s) => s.rememberInputs);
  const setInputsPrompt = useBuilder((s) => s.setInputsPrompt);
  const workflowName = useBuilder((s) => s.meta.name);
  // Declared inputs (the workflow's Inputs) say each one's type, whether it is required, and what it is.
  const declared = new Map(fieldsOf(useBuilder((s) => s.meta.inputSchema)).map((f) => [f.name, f]));
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(paths.map((p) => [p, lastInputs[p] ?? ''])),
  );
  const firstRef = useRef<HTMLInputElement>(null);
  const dialog = useFocusTrap<HTMLFormElement>();
  const close = () => setInputsPrompt(null);

  useEffect(() => {
    firstRef.current?.focus();
    firstRef.current?.select();
  }, []);
  useClosesOnEscape(true, () => setInputsPrompt(null));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    rememberInputs(values);
    close();
    const typed = Object.fromEntries(
      Object.entries(values)
        .filter(([path, value]) => value !== '' || declared.get(path)?.required !== false)
        .map(([path, value]) => [path, typedValue(value, declared.get(path)?.type)]),
    );
    void runs.start(buildInputs(typed));
  };

  return (
    <div className="modal-backdrop" onPointerDown={(e) => e.target === e.currentTarget && close()}>
      <form
        ref={dialog}
        className="modal run-inputs"
        role="dialog"
        aria-modal="true"
        aria-labelledby="run-inputs-title"
        aria-describedby="run-inputs-help"
        onSubmit={submit}
        data-testid="run-inputs"
      >
        <div className="run-inputs__header">
          <span className="run-inputs__icon" aria-hidden="true">
            <Icon name="play" size={13} />
          </span>
          <div>
            <h2 id="run-inputs-title" className="modal__title">
              Run inputs
            </h2>
            <p id="run-inputs-help" className="muted small">
              {workflowName} reads {paths.length === 1 ? 'this value' : 'these values'} when it runs.
            </p>
          </div>
        </div>
        <div className="run-inputs__fields">
          {paths.map((path, index) => (
            <label key={path} className="field run-inputs__field" data-testid={`run-input-${path}`}>
              <span className="field__label">
                <code className="run-inputs__path">{path}</code>
                {declared.has(path) && (
                  <span className="muted small">
                    {' '}
                    {INPUT_TYPE_LABELS[declared.get(path)!.type]}
                    {declared.get(path)!.required ? ', required' : ', optional'}
                  </span>
                )}
              </span>
              <input
                ref={index === 0 ? firstRef : undefined}
                className="input"
                value={values[path] ?? ''}
                placeholder={`Value for {{${path}}}`}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => setValues((v) => ({ ...v, [path]: e.target.value }))}
              />
              {declared.get(path)?.description && <span className="field__hint">{declared.get(path)!.description}</span>}
            </label>
          ))}
        </div>
        <p className="field__hint">
          {declared.size > 0 ? 'Declared inputs are sent as their type; the rest as text.' : 'Values are sent as text.'} They are kept
          until you reload the page, never saved.
        </p>
        <div className="modal__actions">
          <button type="button" className="button button--ghost" onClick={close} data-testid="run-inputs-cancel">
            Cancel
          </button>
          <button type="submit" className="button button--primary" data-testid="run-inputs-submit">
            <Icon name="play" size={12} /> Run
          </button>
        </div>
      </form>
    </div>
  );
}
