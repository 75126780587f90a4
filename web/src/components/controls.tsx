// Form controls for config fields. The inspector draws every field of a node type with the control its
// declaration names (`ui.fields[key].widget`), never by node type. Controls that hold text that may not parse
// yet (JSON, number text, rows without a name) keep it locally and report it as a draft error, so the graph is
// blocked from running until it is fixed.

import { isLiteralSecret } from '../graph/secrets';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { isPlainObject } from '../graph/document';
import { enumOptions, type FormField } from '../graph/nodeTypes';
import { rangeWords } from '../graph/schemaCheck';
import { credentialNameOf, type Suggestion } from '../graph/variables';
import { useBuilder } from '../store/hooks';
import { ExpressionPreview } from './ExpressionPreview';
import { McpServersControl, WorkflowsControl } from './AgentToolControls';
import { McpToolControl } from './McpToolControl';
import { Icon } from './icons';
import { useCaretInsert, VariableMenu } from './VariableMenu';
import { useWorkflows } from '../app/services';
import { CodeControl } from './CodeField';
import { WorkflowPicker } from './WorkflowPicker';

export interface ControlProps {
  nodeId: string;
  field: FormField;
  config: Record<string, unknown>;
  errors: string[];
  /** Sets config keys; `undefined` removes a key. One call is one undo step. */
  onChange: (patch: Record<string, unknown>) => void;
}

const hintOf = (field: FormField) => field.ui.help ?? undefined;
const placeholderOf = (field: FormField) => field.ui.placeholder ?? undefined;
/** "Headers" → "header": how a row of a name/value field is called. */
const singular = (label: string) => label.toLowerCase().replace(/ies$/, 'y').replace(/s$/, '');

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

/** Under a field drawn without `Field` (rows, lists): its help, or its errors. */
export function FieldNotes({ field, errors }: { field: FormField; errors: string[] }) {
  return (
    <>
      {field.ui.help && errors.length === 0 && <p className="field__hint">{field.ui.help}</p>}
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={`field-${field.key}-error`}>
          {message}
        </p>
      ))}
    </>
  );
}

export function FieldControl(props: ControlProps) {
  switch (props.field.ui.widget) {
    case 'select':
      return <SelectControl {...props} />;
    case 'text':
      return <TextControl {...props} />;
    case 'expression':
    case 'textarea':
      return <TextAreaControl {...props} />;
    case 'number':
      return <NumberControl {...props} />;
    case 'switch':
      return <SwitchControl {...props} />;
    case 'keyValue':
      return <RowsControl {...props} values="text" />;
    case 'valueMap':
      return <RowsControl {...props} values="any" />;
    case 'list':
      return <ListControl {...props} />;
    case 'body':
      return <BodyControl {...props} />;
    case 'credential':
      return <CredentialControl {...props} />;
    case 'signature':
      return <SignatureControl {...props} />;
    case 'code':
      return <CodeControl {...props} />;
    case 'workflow':
      return <WorkflowControl {...props} />;
    case 'mcpTool':
      return <McpToolControl {...props} />;
    case 'workflows':
      return <WorkflowsControl {...props} />;
    case 'mcpServers':
      return <McpServersControl {...props} />;
    default:
      // `json`, and any widget this builder does not know yet: the value as JSON.
      return <JsonControl {...props} />;
  }
}

function SelectControl({ field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const options = enumOptions(field.schema);
  const raw = config[field.key];
  const value = typeof raw === 'string' ? raw : typeof field.schema.default === 'string' ? field.schema.default : (options[0] ?? '');
  return (
    <Field label={field.ui.label} htmlFor={id} errors={errors} hint={hintOf(field)} testId={`field-${field.key}`}>
      <select id={id} className="input" value={value} onChange={(e) => onChange({ [field.key]: e.target.value })}>
        {!options.includes(value) && <option value={value}>{value}</option>}
        {options.map((option) => (
          <option key={option} value={option}>
            {field.ui.optionLabels[option] ?? option}
          </option>
        ))}
      </select>
    </Field>
  );
}

function TextControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const caret = useCaretInsert<HTMLInputElement>((next) => onChange({ [field.key]: next }));
  return (
    <Field
      label={field.ui.label}
      htmlFor={id}
      errors={errors}
      hint={hintOf(field)}
      testId={`field-${field.key}`}
      action={field.ui.templated ? <VariableMenu nodeId={nodeId} onPick={caret.insert} testId={`insert-${field.key}`} /> : undefined}
    >
      <input
        id={id}
        ref={caret.ref}
        onSelect={caret.track}
        className={`input${field.ui.monospace ? ' input--mono' : ''}`}
        type="text"
        value={typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : String(raw)}
        placeholder={placeholderOf(field)}
        aria-required={field.required}
        aria-invalid={errors.length > 0}
        spellCheck={false}
        onChange={(e) => onChange({ [field.key]: e.target.value })}
      />
      {field.ui.templated && typeof raw === 'string' && <ExpressionPreview nodeId={nodeId} text={raw} testId={`preview-${field.key}`} />}
    </Field>
  );
}

/** Longer text, and expressions (`{{ steps.http_1.output.body.amount > 500 }}`), which wrap. */
function TextAreaControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const expression = field.ui.widget === 'expression';
  const caret = useCaretInsert<HTMLTextAreaElement>((next) => onChange({ [field.key]: next }), expression ? 'expression' : 'text');
  const text = typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : String(raw);
  return (
    <Field
      label={field.ui.label}
      htmlFor={id}
      errors={errors}
      hint={hintOf(field)}
      testId={`field-${field.key}`}
      action={
        field.ui.templated ? <VariableMenu nodeId={nodeId} onPick={caret.insert} bare={expression} testId={`insert-${field.key}`} /> : undefined
      }
    >
      <textarea
        id={id}
        ref={caret.ref}
        onSelect={caret.track}
        className={`input textarea${field.ui.monospace || expression ? ' input--mono' : ''}`}
        rows={expression ? 2 : 4}
        value={text}
        placeholder={placeholderOf(field)}
        aria-required={field.required}
        aria-invalid={errors.length > 0}
        spellCheck={false}
        onChange={(e) => onChange({ [field.key]: e.target.value })}
      />
      {field.ui.templated && (
        <ExpressionPreview nodeId={nodeId} text={text} mode={expression ? 'condition' : 'template'} testId={`preview-${field.key}`} />
      )}
    </Field>
  );
}

/** A field counted in seconds (`intervalSeconds`, as `timeoutMs` is in ms) is typed in the unit the user picks. */
const SECOND_UNITS = [
  { name: 'seconds', factor: 1 },
  { name: 'minutes', factor: 60 },
  { name: 'hours', factor: 3600 },
] as const;
type Unit = (typeof SECOND_UNITS)[number];

/** The largest unit a value is a whole number of: 300 → 5 minutes. */
export function unitFor(value: unknown): Unit {
  const n = typeof value === 'number' ? value : NaN;
  return [...SECOND_UNITS].reverse().find((u) => Number.isInteger(n) && n > 0 && n % u.factor === 0) ?? SECOND_UNITS[0];
}

function NumberControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const units = /Seconds$/.test(field.key);
  const [unit, setUnit] = useState<Unit>(() => (units ? unitFor(raw) : SECOND_UNITS[0]));
  const shown = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'number' ? String(value / unit.factor) : String(value));
  const [text, setText] = useState(shown(raw));
  const setDraftError = useBuilder((s) => s.setDraftError);
  useEffect(() => {
    // Follow outside changes (undo, another node) unless the text already means this value.
    const parsed = text.trim() === '' ? undefined : Number(text) * unit.factor;
    if (parsed !== raw) setText(shown(raw));
  }, [raw, nodeId]);
  useEffect(() => () => setDraftError(nodeId, field.key, null), [nodeId, field.key, setDraftError]);

  const change = (next: string, inUnit: Unit = unit) => {
    setText(next);
    if (next.trim() === '') {
      setDraftError(nodeId, field.key, null);
      onChange({ [field.key]: undefined });
      return;
    }
    const value = Number(next) * inUnit.factor;
    if (!Number.isFinite(value) || (units && field.schema.type === 'integer' && !Number.isInteger(value))) {
      setDraftError(nodeId, field.key, `${field.ui.label} must be a ${units ? 'whole number of seconds' : 'number'}`);
      return;
    }
    setDraftError(nodeId, field.key, null);
    onChange({ [field.key]: value });
  };

  const range = rangeWords(field.schema).replace(/^must be /, '');
  const bounds = range === 'is out of range' ? '' : `${range.charAt(0).toUpperCase()}${range.slice(1)}.`;
  const hint = hintOf(field) ?? [bounds, field.required ? '' : 'Empty uses the default.'].filter(Boolean).join(' ');
  const input = (
    <input
      id={id}
      className="input"
      type="text"
      inputMode={field.schema.type === 'integer' && !units ? 'numeric' : 'decimal'}
      value={text}
      placeholder={units && field.ui.placeholder ? String(Number(field.ui.placeholder) / unit.factor) : placeholderOf(field)}
      aria-required={field.required}
      aria-invalid={errors.length > 0}
      onChange={(e) => change(e.target.value)}
    />
  );
  return (
    <Field label={field.ui.label} htmlFor={id} errors={errors} hint={hint || undefined} testId={`field-${field.key}`}>
      {units ? (
        <div className="unit-input">
          {input}
          <select
            className="input"
            aria-label={`${field.ui.label}: unit`}
            value={unit.name}
            onChange={(e) => {
              const next = SECOND_UNITS.find((u) => u.name === e.target.value) ?? SECOND_UNITS[0];
              setUnit(next);
              // The number typed stays; what it means changes with the unit.
              if (text.trim() !== '') change(text, next);
            }}
            data-testid={`unit-${field.key}`}
          >
            {SECOND_UNITS.map((u) => (
              <option key={u.name} value={u.name}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
      ) : (
        input
      )}
    </Field>
  );
}

export function Switch({
  checked,
  onChange,
  label,
  id,
  testId,
  disabled = false,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  label: string;
  id?: string;
  testId?: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      role="switch"
      id={id}
      aria-checked={checked}
      aria-label={label}
      className={`switch${checked ? ' is-on' : ''}`}
      disabled={disabled}
      onClick={() => onChange(!checked)}
      data-testid={testId}
    >
      <span className="switch__thumb" aria-hidden="true" />
    </button>
  );
}

function SwitchControl({ field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const checked = typeof raw === 'boolean' ? raw : field.schema.default === true;
  return (
    <div className={`field field--inline${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <div className="field__switch-row">
        <label className="field__label" htmlFor={id}>
          {field.ui.label}
        </label>
        <Switch id={id} checked={checked} label={field.ui.label} onChange={(next) => onChange({ [field.key]: next })} />
      </div>
      <FieldNotes field={field} errors={errors} />
    </div>
  );
}

interface Row {
  id: number;
  name: string;
  /** As typed; a value read from the document that is not text is shown as JSON. */
  value: string;
  /** The document's value when it was not text and has not been edited: kept as it is. */
  original?: unknown;
}

function rowsOf(value: unknown, start = 0): Row[] {
  if (!isPlainObject(value)) return [];
  return Object.entries(value).map(([name, v], i) =>
    typeof v === 'string' ? { id: start + i, name, value: v } : { id: start + i, name, value: JSON.stringify(v), original: v },
  );
}

function objectOf(rows: readonly Row[]): Record<string, unknown> {
  return Object.fromEntries(
    rows.filter((r) => r.name.trim() !== '').map((r) => [r.name.trim(), 'original' in r ? r.original : r.value]),
  );
}

/**
 * Name/value rows: `keyValue` (text values, such as headers) and `valueMap` (values that may be templates;
 * one that is exactly `{{ expression }}` keeps its type on the server). Values offer "Insert variable" when
 * the field is templated.
 */
function RowsControl({ nodeId, field, config, errors, onChange, values }: ControlProps & { values: 'text' | 'any' }) {
  const raw = config[field.key];
  const nextId = useRef(1000);
  const [rows, setRows] = useState<Row[]>(() => rowsOf(raw));
  const setDraftError = useBuilder((s) => s.setDraftError);
  const labelId = useId();
  const label = field.ui.label;
  const noun = singular(label);

  useEffect(() => {
    if (JSON.stringify(objectOf(rows)) !== JSON.stringify(isPlainObject(raw) ? raw : {})) {
      setRows(rowsOf(raw, nextId.current));
      nextId.current += 100;
    }
  }, [raw, nodeId]);
  useEffect(() => () => setDraftError(nodeId, field.key, null), [nodeId, field.key, setDraftError]);

  const commit = (next: Row[]) => {
    setRows(next);
    const names = next.map((r) => r.name.trim().toLowerCase()).filter(Boolean);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    const unnamed = next.some((r) => r.name.trim() === '' && r.value !== '');
    setDraftError(
      nodeId,
      field.key,
      unnamed ? `Every ${noun} needs a name` : duplicate ? `${noun.charAt(0).toUpperCase()}${noun.slice(1)} “${duplicate}” appears twice` : null,
    );
    onChange({ [field.key]: objectOf(next) });
  };

  const update = (id: number, patch: Partial<Row>) =>
    commit(
      rows.map((r) => {
        if (r.id !== id) return r;
        const edited = { ...r, ...patch };
        if ('value' in patch) delete edited.original;
        return edited;
      }),
    );

  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <span className="field__label" id={labelId}>
        {label}
      </span>
      <div className="kv" role="group" aria-labelledby={labelId}>
        {rows.map((row, index) => (
          <div className="kv__row" key={row.id} data-testid={`${field.key}-row`}>
            <input
              className="input input--mono"
              value={row.name}
              placeholder="Name"
              aria-label={`${label} ${index + 1} name`}
              spellCheck={false}
              onChange={(e) => update(row.id, { name: e.target.value })}
            />
            <TemplatedValue
              nodeId={nodeId}
              value={row.value}
              placeholder={values === 'any' ? placeholderOf(field) : 'Value'}
              label={`${label} ${index + 1} value`}
              templated={field.ui.templated}
              testId={`insert-${field.key}-value`}
              onChange={(value) => update(row.id, { value })}
            />
            <button
              type="button"
              className="icon-button icon-button--quiet"
              aria-label={`Remove ${noun} ${row.name || index + 1}`}
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
          data-testid={`${field.key}-add`}
        >
          <Icon name="plus" size={14} /> Add {noun}
        </button>
      </div>
      <FieldNotes field={field} errors={errors} />
      {values === 'text' && rows.some((row) => isLiteralSecret(row.name, row.value)) && (
        <p className="field__warning" role="status" data-testid={`field-${field.key}-secret-warning`}>
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

/** A list of text entries (a switch's cases: one output each, in this order). */
function ListControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const raw = config[field.key];
  const items = Array.isArray(raw) ? raw.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : [];
  const labelId = useId();
  const noun = singular(field.ui.label);
  const set = (next: string[]) => onChange({ [field.key]: next });
  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <span className="field__label" id={labelId}>
        {field.ui.label}
      </span>
      <div className="kv" role="group" aria-labelledby={labelId}>
        {items.map((item, index) => (
          <div className="kv__row kv__row--single" key={`${nodeId}:${index}`} data-testid={`${field.key}-item`}>
            <input
              className={`input${field.ui.monospace ? ' input--mono' : ''}`}
              value={item}
              placeholder={placeholderOf(field)}
              aria-label={`${field.ui.label} ${index + 1}`}
              spellCheck={false}
              onChange={(e) => set(items.map((v, i) => (i === index ? e.target.value : v)))}
            />
            <button
              type="button"
              className="icon-button icon-button--quiet"
              aria-label={`Remove ${noun} ${item || index + 1}`}
              onClick={() => set(items.filter((_, i) => i !== index))}
            >
              <Icon name="close" size={14} />
            </button>
          </div>
        ))}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => set([...items, ''])}
          data-testid={`${field.key}-add`}
        >
          <Icon name="plus" size={14} /> Add {noun}
        </button>
      </div>
      <FieldNotes field={field} errors={errors} />
    </div>
  );
}

/** A row's value: text with an "Insert variable" button inside its right edge when the field is templated. */
function TemplatedValue({
  nodeId,
  value,
  placeholder,
  label,
  templated,
  testId,
  onChange,
}: {
  nodeId: string;
  value: string;
  placeholder?: string;
  label: string;
  templated: boolean;
  testId: string;
  onChange: (value: string) => void;
}) {
  const caret = useCaretInsert<HTMLInputElement>(onChange);
  if (!templated)
    return (
      <input
        className="input input--mono"
        value={value}
        placeholder={placeholder}
        aria-label={label}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
      />
    );
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
      <VariableMenu nodeId={nodeId} onPick={caret.insert} compact testId={testId} />
      <ExpressionPreview nodeId={nodeId} text={value} testId={`preview-${testId}`} />
    </div>
  );
}

type BodyMode = 'none' | 'json' | 'text';

/**
 * The HTTP body: none, JSON (the field's own key, e.g. `json_body`) or raw text (its first alias, e.g. `body`),
 * never both.
 */
function BodyControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const jsonKey = field.key;
  const textKey = field.ui.aliases[0] ?? `${field.key}_text`;
  const mode: BodyMode = config[jsonKey] !== undefined && config[jsonKey] !== null ? 'json' : config[textKey] !== undefined && config[textKey] !== null ? 'text' : 'none';
  const setDraftError = useBuilder((s) => s.setDraftError);
  const labelId = useId();
  /** Set by whichever editor is showing (JSON or text). */
  const insertInto = useRef<((suggestion: Suggestion) => void) | null>(null);
  const textCaret = useCaretInsert<HTMLTextAreaElement>((next) => onChange({ [textKey]: next }));
  if (mode === 'text') insertInto.current = textCaret.insert;

  const switchTo = (next: BodyMode) => {
    if (next === mode) return;
    setDraftError(nodeId, field.key, null);
    onChange({ [jsonKey]: next === 'json' ? {} : undefined, [textKey]: next === 'text' ? '' : undefined });
  };

  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <div className="field__label-row">
        <span className="field__label" id={labelId}>
          {field.ui.label}
        </span>
        <VariableMenu
          nodeId={nodeId}
          onPick={(suggestion) => insertInto.current?.(suggestion)}
          disabled={mode === 'none'}
          disabledReason="Choose JSON or Text first"
          testId={`insert-${field.key}`}
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
          draftKey={field.key}
          value={config[jsonKey]}
          onChange={(v) => onChange({ [jsonKey]: v })}
          invalid={errors.length > 0}
          insertInto={insertInto}
          testId="json-body"
          label="JSON body"
        />
      )}
      {mode === 'text' && (
        <textarea
          ref={textCaret.ref}
          onSelect={textCaret.track}
          className="input input--mono textarea"
          rows={5}
          aria-label="Text body"
          value={typeof config[textKey] === 'string' ? (config[textKey] as string) : ''}
          spellCheck={false}
          onChange={(e) => onChange({ [textKey]: e.target.value })}
        />
      )}
      {errors.map((message) => (
        <p key={message} className="field__error" role="alert" data-testid={`field-${field.key}-error`}>
          {message}
        </p>
      ))}
    </div>
  );
}

/** Any JSON value, edited as text. */
function JsonControl({ nodeId, field, config, errors, onChange }: ControlProps) {
  const labelId = useId();
  const insertInto = useRef<((suggestion: Suggestion) => void) | null>(null);
  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <div className="field__label-row">
        <span className="field__label" id={labelId}>
          {field.ui.label}
        </span>
        {field.ui.templated && (
          <VariableMenu nodeId={nodeId} onPick={(suggestion) => insertInto.current?.(suggestion)} testId={`insert-${field.key}`} />
        )}
      </div>
      <JsonEditor
        nodeId={nodeId}
        draftKey={field.key}
        value={config[field.key]}
        onChange={(v) => onChange({ [field.key]: v })}
        invalid={errors.length > 0}
        insertInto={insertInto}
        testId={`json-${field.key}`}
        label={field.ui.label}
        allowEmpty
        onEmpty={() => onChange({ [field.key]: undefined })}
      />
      <FieldNotes field={field} errors={errors} />
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
  testId,
  label,
  allowEmpty = false,
  onEmpty,
}: {
  nodeId: string;
  draftKey: string;
  value: unknown;
  onChange: (value: unknown) => void;
  invalid: boolean;
  insertInto: { current: ((suggestion: Suggestion) => void) | null };
  testId: string;
  label: string;
  /** Empty text means "not set" (onEmpty) rather than an error. */
  allowEmpty?: boolean;
  onEmpty?: () => void;
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
      if (allowEmpty) {
        setDraftError(nodeId, draftKey, null);
        onEmpty?.();
      } else setDraftError(nodeId, draftKey, 'Enter a JSON value, or choose None');
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
  const caret = useCaretInsert<HTMLTextAreaElement>(change, 'json');
  insertInto.current = caret.insert;

  return (
    <div className="json-editor">
      <textarea
        ref={caret.ref}
        onSelect={caret.track}
        className="input input--mono textarea"
        rows={Math.min(14, Math.max(4, text.split('\n').length + 1))}
        aria-label={label}
        aria-invalid={invalid}
        value={text}
        spellCheck={false}
        onChange={(e) => change(e.target.value)}
        data-testid={testId}
      />
      <button
        type="button"
        className="button button--ghost button--small json-editor__format"
        disabled={invalid || text.trim() === ''}
        onClick={() => change(pretty(JSON.parse(text)))}
      >
        Format
      </button>
    </div>
  );
}

/** A saved workflow's id, picked by its name; never the workflow being edited (it would call itself). */
function WorkflowControl({ field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const self = useWorkflows((s) => s.binding?.workflowId ?? null);
  return (
    <Field label={field.ui.label} htmlFor={id} errors={errors} hint={hintOf(field)} testId={`field-${field.key}`}>
      <WorkflowPicker
        id={id}
        value={typeof raw === 'string' && raw !== '' ? raw : null}
        onChange={(picked) => onChange({ [field.key]: picked ?? undefined })}
        exclude={self}
        noneLabel="None"
        invalid={errors.length > 0}
        testId={`workflow-picker-${field.key}`}
      />
    </Field>
  );
}

/**
 * A reference to a stored credential, never the secret itself: `{credentialName}` (HTTP's `auth`), or the name as a
 * plain string when the field's schema is a string (an LLM step's `credentialName`).
 */
function CredentialControl({ field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const raw = config[field.key];
  const plain = field.schema.type === 'string';
  const name = credentialNameOf(raw);
  return (
    <CredentialPicker
      id={id}
      label={field.ui.label}
      name={name}
      errors={errors}
      hint={hintOf(field)}
      testId={`field-${field.key}`}
      onPick={(picked) =>
        onChange({ [field.key]: picked === '' ? undefined : plain ? picked : { ...(isPlainObject(raw) ? raw : {}), credentialName: picked } })
      }
    />
  );
}

/** A stored credential's name chosen from the list, with a way to add the one a workflow names but the store lacks. */
function CredentialPicker({
  id,
  label,
  name,
  errors,
  hint,
  testId,
  onPick,
  noneLabel = 'None',
}: {
  id: string;
  label: string;
  name: string;
  errors: string[];
  hint?: string;
  testId: string;
  onPick: (name: string) => void;
  noneLabel?: string;
}) {
  const list = useBuilder((s) => s.credentials);
  const openCredentials = useBuilder((s) => s.setCredentialsOpen);
  const known = list.items.some((c) => c.name === name);
  const missing = name !== '' && !known && list.status === 'ready';
  return (
    <Field
      label={label}
      htmlFor={id}
      errors={errors.filter((e) => !missing || !e.includes(`“${name}”`))}
      hint={missing ? undefined : hint}
      testId={testId}
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
        onChange={(e) => onPick(e.target.value)}
        data-testid="credential-picker"
      >
        <option value="">{noneLabel}</option>
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

/**
 * `{kind, credentialName?, header?}`: how a request proves who sent it. The kinds come from the schema's enum and
 * their names from `ui.optionLabels`; which sub-fields a kind needs is the schema's own rule, checked on the server.
 */
function SignatureControl({ field, config, errors, onChange }: ControlProps) {
  const kindId = useId();
  const credentialId = useId();
  const headerId = useId();
  const raw = config[field.key];
  const value = isPlainObject(raw) ? raw : {};
  const properties = isPlainObject(field.schema.properties) ? field.schema.properties : {};
  const kindSchema = isPlainObject(properties.kind) ? properties.kind : {};
  const kinds = enumOptions(kindSchema);
  const kind = typeof value.kind === 'string' ? value.kind : typeof kindSchema.default === 'string' ? kindSchema.default : (kinds[0] ?? '');
  const none = kindSchema.default ?? kinds[0];
  const set = (patch: Record<string, unknown>) => {
    const next: Record<string, unknown> = { ...value, ...patch };
    for (const key of Object.keys(next)) if (next[key] === undefined || next[key] === '') delete next[key];
    onChange({ [field.key]: next });
  };
  const credentialName = typeof value.credentialName === 'string' ? value.credentialName : '';
  const header = typeof value.header === 'string' ? value.header : '';
  // The server words these problems with the labels shown here (or, from an older server, the config keys).
  const about = { credential: ['signing secret', 'credentialName'], header: ['signature header', 'header'] };
  const mentions = (words: readonly string[]) => errors.filter((e) => words.some((w) => e.toLowerCase().includes(w.toLowerCase())));
  const rest = errors.filter((e) => !mentions(about.credential).includes(e) && !mentions(about.header).includes(e));
  return (
    <div className="field-group" data-testid={`field-${field.key}`}>
      <Field label={field.ui.label} htmlFor={kindId} errors={rest} hint={hintOf(field)}>
        <select id={kindId} className="input" value={kind} onChange={(e) => set({ kind: e.target.value })} data-testid="signature-kind">
          {kinds.map((option) => (
            <option key={option} value={option}>
              {field.ui.optionLabels[option] ?? option}
            </option>
          ))}
        </select>
      </Field>
      {kind !== none && (
        <CredentialPicker
          id={credentialId}
          label="Signing secret"
          name={credentialName}
          errors={mentions(about.credential)}
          hint="The credential holding the secret the sender signs with."
          testId={`field-${field.key}-credential`}
          noneLabel="Choose a credential…"
          onPick={(picked) => set({ credentialName: picked })}
        />
      )}
      {isPlainObject(properties.header) && kind !== none && kind !== 'stripe' && (
        <Field label="Signature header" htmlFor={headerId} errors={mentions(about.header).filter((e) => !mentions(about.credential).includes(e))} testId={`field-${field.key}-header`}
          hint="The request header that carries the hex signature of the body.">
          <input id={headerId} className="input input--mono" value={header} placeholder="X-Signature"
            onChange={(e) => set({ header: e.target.value })} />
        </Field>
      )}
    </div>
  );
}
