// Form controls for node parameters. Each control edits one config key of one node; the inspector picks the
// control from the parameter's declaration. Controls that hold text that may not parse yet (JSON, header rows)
// keep it locally and report it as a draft error, so the graph is blocked from running until it is fixed.

import { isLiteralSecret } from '../graph/secrets';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { isPlainObject } from '../graph/document';
import type { Parameter } from '../graph/nodeTypes';
import type { Suggestion } from '../graph/variables';
import { useBuilder } from '../store/hooks';
import { Icon } from './icons';
import { useCaretInsert, VariableMenu } from './VariableMenu';

export interface ControlProps<P extends Parameter = Parameter> {
  nodeId: string;
  parameter: P;
  config: Record<string, unknown>;
  errors: string[];
  /** Sets config keys; `undefined` removes a key. One call is one undo step. */
  onChange: (patch: Record<string, unknown>) => void;
}

export function Field({
  label,
  htmlFor,
  hint,
  errors,
  children,
  testId,
  action,
}: {
  label: string;
  htmlFor?: string;
  hint?: string;
  errors: string[];
  children: ReactNode;
  testId?: string;
  /** A small control at the right of the label (e.g. "Insert variable"). */
  action?: ReactNode;
}) {
  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={testId}>
      <div className="field__label-row">
        <label className="field__label" htmlFor={htmlFor}>
          {label}
        </label>
        {action}
      </div>
      {children}
      {hint && errors.length === 0 && <p className="field__hint">{hint}</p>}
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={testId ? `${testId}-error` : undefined}>
          {message}
        </p>
      ))}
    </div>
  );
}

export function ParameterControl(props: ControlProps) {
  const { parameter } = props;
  switch (parameter.control) {
    case 'select':
      return <SelectControl {...props} parameter={parameter} />;
    case 'text':
      return <TextControl {...props} parameter={parameter} />;
    case 'number':
      return <NumberControl {...props} parameter={parameter} />;
    case 'keyValue':
      return <KeyValueControl {...props} parameter={parameter} />;
    case 'body':
      return <BodyControl {...props} parameter={parameter} />;
    case 'credential':
      return <CredentialControl {...props} parameter={parameter} />;
  }
}

type Of<C extends Parameter['control']> = ControlProps<Extract<Parameter, { control: C }>>;

function SelectControl({ parameter, config, errors, onChange }: Of<'select'>) {
  const id = useId();
  const value = typeof config[parameter.key] === 'string' ? (config[parameter.key] as string) : parameter.options[0];
  return (
    <Field label={parameter.label} htmlFor={id} errors={errors} hint={parameter.hint} testId={`field-${parameter.key}`}>
      <select id={id} className="input" value={value} onChange={(e) => onChange({ [parameter.key]: e.target.value })}>
        {parameter.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </Field>
  );
}

function TextControl({ nodeId, parameter, config, errors, onChange }: Of<'text'>) {
  const id = useId();
  const raw = config[parameter.key];
  const caret = useCaretInsert<HTMLInputElement>((next) => onChange({ [parameter.key]: next }));
  return (
    <Field
      label={parameter.label}
      htmlFor={id}
      errors={errors}
      hint={parameter.hint}
      testId={`field-${parameter.key}`}
      action={parameter.templated ? <VariableMenu nodeId={nodeId} onPick={caret.insert} testId={`insert-${parameter.key}`} /> : undefined}
    >
      <input
        id={id}
        ref={caret.ref}
        onSelect={caret.track}
        className={`input${parameter.monospace ? ' input--mono' : ''}`}
        type="text"
        value={typeof raw === 'string' ? raw : ''}
        placeholder={parameter.placeholder}
        aria-required={parameter.required}
        aria-invalid={errors.length > 0}
        spellCheck={false}
        onChange={(e) => onChange({ [parameter.key]: e.target.value })}
      />
    </Field>
  );
}

function NumberControl({ nodeId, parameter, config, errors, onChange }: Of<'number'>) {
  const id = useId();
  const raw = config[parameter.key];
  const [text, setText] = useState(raw === undefined ? '' : String(raw));
  const setDraftError = useBuilder((s) => s.setDraftError);
  useEffect(() => {
    // Follow outside changes (undo, another node) unless the text already means this value.
    const parsed = text.trim() === '' ? undefined : Number(text);
    if (parsed !== raw) setText(raw === undefined ? '' : String(raw));
  }, [raw, nodeId]);
  useEffect(() => () => setDraftError(nodeId, parameter.key, null), [nodeId, parameter.key, setDraftError]);

  const change = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setDraftError(nodeId, parameter.key, null);
      onChange({ [parameter.key]: undefined });
      return;
    }
    const value = Number(next);
    if (!Number.isFinite(value)) {
      setDraftError(nodeId, parameter.key, `${parameter.label} must be a number`);
      return;
    }
    setDraftError(nodeId, parameter.key, null);
    onChange({ [parameter.key]: value });
  };

  return (
    <Field
      label={parameter.label}
      htmlFor={id}
      errors={errors}
      hint={parameter.hint ?? `Between ${parameter.min} and ${parameter.max.toLocaleString('en-US')}${parameter.unit ? ` ${parameter.unit}` : ''}. Empty uses the default.`}
      testId={`field-${parameter.key}`}
    >
      <div className="input-group">
        <input
          id={id}
          className="input"
          type="text"
          inputMode="numeric"
          value={text}
          placeholder={parameter.placeholder}
          aria-invalid={errors.length > 0}
          onChange={(e) => change(e.target.value)}
        />
        {parameter.unit && <span className="input-group__suffix">{parameter.unit}</span>}
      </div>
    </Field>
  );
}

interface Row {
  id: number;
  name: string;
  value: string;
}

function rowsOf(value: unknown, start = 0): Row[] {
  if (!isPlainObject(value)) return [];
  return Object.entries(value).map(([name, v], i) => ({ id: start + i, name, value: typeof v === 'string' ? v : JSON.stringify(v) }));
}

function objectOf(rows: readonly Row[]): Record<string, string> {
  return Object.fromEntries(rows.filter((r) => r.name.trim() !== '').map((r) => [r.name.trim(), r.value]));
}

function KeyValueControl({ nodeId, parameter, config, errors, onChange }: Of<'keyValue'>) {
  const raw = config[parameter.key];
  const nextId = useRef(1000);
  const [rows, setRows] = useState<Row[]>(() => rowsOf(raw));
  const setDraftError = useBuilder((s) => s.setDraftError);
  const labelId = useId();

  useEffect(() => {
    if (JSON.stringify(objectOf(rows)) !== JSON.stringify(isPlainObject(raw) ? raw : {})) {
      setRows(rowsOf(raw, nextId.current));
      nextId.current += 100;
    }
  }, [raw, nodeId]);
  useEffect(() => () => setDraftError(nodeId, parameter.key, null), [nodeId, parameter.key, setDraftError]);

  const commit = (next: Row[]) => {
    setRows(next);
    const names = next.map((r) => r.name.trim().toLowerCase()).filter(Boolean);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    const unnamed = next.some((r) => r.name.trim() === '' && r.value !== '');
    setDraftError(
      nodeId,
      parameter.key,
      unnamed ? 'Every header needs a name' : duplicate ? `Header “${duplicate}” appears twice` : null,
    );
    onChange({ [parameter.key]: objectOf(next) });
  };

  const update = (id: number, patch: Partial<Row>) => commit(rows.map((r) => (r.id === id ? { ...r, ...patch } : r)));

  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${parameter.key}`}>
      <span className="field__label" id={labelId}>
        {parameter.label}
      </span>
      <div className="kv" role="group" aria-labelledby={labelId}>
        {rows.map((row, index) => (
          <div className="kv__row" key={row.id} data-testid={`${parameter.key}-row`}>
            <input
              className="input input--mono"
              value={row.name}
              placeholder={parameter.keyPlaceholder}
              aria-label={`${parameter.label} ${index + 1} name`}
              spellCheck={false}
              onChange={(e) => update(row.id, { name: e.target.value })}
            />
            <TemplatedValue
              nodeId={nodeId}
              value={row.value}
              placeholder={parameter.valuePlaceholder}
              label={`${parameter.label} ${index + 1} value`}
              onChange={(value) => update(row.id, { value })}
            />
            <button
              type="button"
              className="icon-button icon-button--quiet"
              aria-label={`Remove ${parameter.label.toLowerCase()} ${row.name || index + 1}`}
              onClick={() => commit(rows.filter((r) => r.id !== row.id))}
            >
              <Icon name="close" size={14} />
            </button>
          </div>
        ))}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => {
            nextId.current += 1;
            setRows([...rows, { id: nextId.current, name: '', value: '' }]);
          }}
          data-testid={`${parameter.key}-add`}
        >
          <Icon name="plus" size={14} /> Add header
        </button>
      </div>
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={`field-${parameter.key}-error`}>
          {message}
        </p>
      ))}
      {rows.some((row) => isLiteralSecret(row.name, row.value)) && (
        <p className="field__warning" role="status" data-testid={`field-${parameter.key}-secret-warning`}>
          <Icon name="alert" size={13} />
          <span>
            A secret typed here is left out of exports and of what this browser saves. Store it under{' '}
            <strong>Credentials</strong> and pick it as the step’s Credential, or insert {'{{getCredential(…)}}'}.
          </span>
        </p>
      )}
    </div>
  );
}

/** A header value: text with an "Insert variable" button inside its right edge. */
function TemplatedValue({
  nodeId,
  value,
  placeholder,
  label,
  onChange,
}: {
  nodeId: string;
  value: string;
  placeholder?: string;
  label: string;
  onChange: (value: string) => void;
}) {
  const caret = useCaretInsert<HTMLInputElement>(onChange);
  return (
    <div className="templated-input">
      <input
        ref={caret.ref}
        className="input input--mono"
        value={value}
        placeholder={placeholder}
        aria-label={label}
        spellCheck={false}
        onSelect={caret.track}
        onChange={(e) => onChange(e.target.value)}
      />
      <VariableMenu nodeId={nodeId} onPick={caret.insert} compact testId="insert-header" />
    </div>
  );
}

type BodyMode = 'none' | 'json' | 'text';

function BodyControl({ nodeId, parameter, config, errors, onChange }: Of<'body'>) {
  const mode: BodyMode = config.json_body !== undefined ? 'json' : config.body !== undefined ? 'text' : 'none';
  const setDraftError = useBuilder((s) => s.setDraftError);
  const labelId = useId();
  /** Set by whichever editor is showing (JSON or text). */
  const insertInto = useRef<((suggestion: Suggestion) => void) | null>(null);
  const textCaret = useCaretInsert<HTMLTextAreaElement>((next) => onChange({ body: next }));
  if (mode === 'text') insertInto.current = textCaret.insert;

  const switchTo = (next: BodyMode) => {
    if (next === mode) return;
    setDraftError(nodeId, parameter.key, null);
    onChange({ json_body: next === 'json' ? {} : undefined, body: next === 'text' ? '' : undefined });
  };

  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${parameter.key}`}>
      <div className="field__label-row">
        <span className="field__label" id={labelId}>
          {parameter.label}
        </span>
        <VariableMenu
          nodeId={nodeId}
          onPick={(suggestion) => insertInto.current?.(suggestion)}
          disabled={mode === 'none'}
          disabledReason="Choose JSON or Text first"
          testId="insert-body"
        />
      </div>
      <div className="segmented" role="radiogroup" aria-labelledby={labelId}>
        {(['none', 'json', 'text'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={mode === m}
            className={`segmented__option${mode === m ? ' is-active' : ''}`}
            onClick={() => switchTo(m)}
            data-testid={`body-mode-${m}`}
          >
            {m === 'none' ? 'None' : m === 'json' ? 'JSON' : 'Text'}
          </button>
        ))}
      </div>
      {mode === 'json' && (
        <JsonEditor
          nodeId={nodeId}
          draftKey={parameter.key}
          value={config.json_body}
          onChange={(v) => onChange({ json_body: v })}
          invalid={errors.length > 0}
          insertInto={insertInto}
        />
      )}
      {mode === 'text' && (
        <textarea
          ref={textCaret.ref}
          onSelect={textCaret.track}
          className="input input--mono textarea"
          rows={5}
          aria-label="Text body"
          value={typeof config.body === 'string' ? config.body : ''}
          spellCheck={false}
          onChange={(e) => onChange({ body: e.target.value })}
        />
      )}
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={`field-${parameter.key}-error`}>
          {message}
        </p>
      ))}
    </div>
  );
}

/** JSON text with a {{ outside every string literal: the usual slip with templates. */
const bareTemplate = (text: string) => text.replace(/"(?:[^"\\]|\\.)*"/g, '""').includes('{{');

const pretty = (value: unknown) => (value === undefined ? '' : JSON.stringify(value, null, 2));

function JsonEditor({
  nodeId,
  draftKey,
  value,
  onChange,
  invalid,
  insertInto,
}: {
  nodeId: string;
  draftKey: string;
  value: unknown;
  onChange: (value: unknown) => void;
  invalid: boolean;
  insertInto: { current: ((suggestion: Suggestion) => void) | null };
}) {
  const [text, setText] = useState(() => pretty(value));
  const setDraftError = useBuilder((s) => s.setDraftError);

  useEffect(() => {
    let same = false;
    try {
      same = JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
    } catch {
      same = false;
    }
    if (!same) {
      setText(pretty(value));
      setDraftError(nodeId, draftKey, null);
    }
  }, [value, nodeId]);
  useEffect(() => () => setDraftError(nodeId, draftKey, null), [nodeId, draftKey, setDraftError]);

  const change = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setDraftError(nodeId, draftKey, 'Enter a JSON value, or choose None');
      return;
    }
    try {
      const parsed: unknown = JSON.parse(next);
      setDraftError(nodeId, draftKey, null);
      onChange(parsed);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      setDraftError(nodeId, draftKey, `Invalid JSON: ${reason}${bareTemplate(next) ? ' (put {{variables}} inside "quotes")' : ''}`);
    }
  };
  const caret = useCaretInsert<HTMLTextAreaElement>(change, { json: true });
  insertInto.current = caret.insert;

  return (
    <div className="json-editor">
      <textarea
        ref={caret.ref}
        onSelect={caret.track}
        className="input input--mono textarea"
        rows={Math.min(14, Math.max(4, text.split('\n').length + 1))}
        aria-label="JSON body"
        aria-invalid={invalid}
        value={text}
        spellCheck={false}
        onChange={(e) => change(e.target.value)}
        data-testid="json-body"
      />
      <button
        type="button"
        className="button button--ghost button--small json-editor__format"
        disabled={invalid}
        onClick={() => change(pretty(JSON.parse(text)))}
      >
        Format
      </button>
    </div>
  );
}

function CredentialControl({ parameter, config, errors, onChange }: Of<'credential'>) {
  const id = useId();
  const raw = config[parameter.key];
  const name = isPlainObject(raw) && typeof raw.credentialName === 'string' ? raw.credentialName : '';
  const list = useBuilder((s) => s.credentials);
  const openCredentials = useBuilder((s) => s.setCredentialsOpen);
  const known = list.items.some((c) => c.name === name);
  const missing = name !== '' && !known && list.status === 'ready';
  return (
    <Field
      label={parameter.label}
      htmlFor={id}
      errors={errors}
      hint={missing ? undefined : parameter.hint}
      testId={`field-${parameter.key}`}
      action={
        <button type="button" className="button button--ghost button--small" onClick={() => openCredentials(true)} data-testid="manage-credentials">
          <Icon name="key" size={13} /> Manage
        </button>
      }
    >
      <select
        id={id}
        className={`input input--mono${missing ? ' input--warn' : ''}`}
        value={name}
        aria-describedby={missing ? `${id}-missing` : undefined}
        onChange={(e) =>
          onChange({ [parameter.key]: e.target.value === '' ? undefined : { ...(isPlainObject(raw) ? raw : {}), credentialName: e.target.value } })
        }
        data-testid="credential-picker"
      >
        <option value="">None</option>
        {name !== '' && !known && <option value={name}>{missing ? `${name} (not defined)` : name}</option>}
        {list.items.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
      {missing && (
        <p className="field__warning" id={`${id}-missing`} role="status" data-testid="credential-missing">
          <Icon name="alert" size={13} />
          <span>
            “{name}” is not defined.{' '}
            <button type="button" className="link-button" onClick={() => openCredentials(true, name)} data-testid="credential-add-missing">
              Add it in Credentials
            </button>
          </span>
        </p>
      )}
      {list.status === 'error' && (
        <p className="field__hint" data-testid="credential-list-error">
          Couldn’t load stored credentials: {list.message}
        </p>
      )}
    </Field>
  );
}
