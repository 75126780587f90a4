// The workflow's declared inputs, as a list of typed fields (never raw JSON), and whether the MCP server offers it
// as a tool. Kept in the canvas's meta and saved beside the graph (app/workflows.ts); the rule is graph/inputFields.ts.

import { useEffect, useId, useRef, useState } from 'react';
import { fieldsOf, fieldsProblem, INPUT_TYPE_LABELS, INPUT_TYPES, schemaOf, type InputField, type InputType } from '../graph/inputFields';
import { useBuilder } from '../store/hooks';
import { Switch } from './controls';
import { Icon } from './icons';

type Row = InputField & { key: number };

export function WorkflowInputs() {
  const schema = useBuilder((s) => s.meta.inputSchema);
  const setMeta = useBuilder((s) => s.setMeta);
  const nextKey = useRef(1);
  const keyed = (fields: InputField[]): Row[] => fields.map((f) => ({ ...f, key: nextKey.current++ }));
  const [rows, setRows] = useState<Row[]>(() => keyed(fieldsOf(schema)));
  const labelId = useId();
  useEffect(() => {
    // Follow outside changes (undo, another workflow opened) unless the rows already mean this schema.
    if (JSON.stringify(schemaOf(rows, schema)) !== JSON.stringify(schema)) setRows(keyed(fieldsOf(schema)));
  }, [schema]);

  const problem = fieldsProblem(rows);
  const commit = (next: Row[]) => {
    setRows(next);
    if (!fieldsProblem(next)) setMeta({ inputSchema: schemaOf(next, schema) });
  };
  const update = (key: number, patch: Partial<InputField>) => commit(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  return (
    <div className={`field${problem ? ' field--invalid' : ''}`} data-testid="workflow-inputs">
      <span className="field__label" id={labelId}>
        Inputs
      </span>
      <div className="inputs-list" role="group" aria-labelledby={labelId}>
        {rows.map((row, index) => (
          <div className="inputs-list__row" key={row.key} data-testid="workflow-input-row">
            <input
              className="input input--mono"
              value={row.name}
              placeholder="name"
              aria-label={`Input ${index + 1} name`}
              spellCheck={false}
              onChange={(e) => update(row.key, { name: e.target.value })}
            />
            <select
              className="input"
              value={row.type}
              aria-label={`Input ${index + 1} type`}
              onChange={(e) => update(row.key, { type: e.target.value as InputType })}
            >
              {INPUT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {INPUT_TYPE_LABELS[type]}
                </option>
              ))}
            </select>
            <label className="inputs-list__required">
              <input type="checkbox" checked={row.required} onChange={(e) => update(row.key, { required: e.target.checked })} /> required
            </label>
            <button
              type="button"
              className="icon-button icon-button--quiet"
              aria-label={`Remove input ${row.name || index + 1}`}
              onClick={() => commit(rows.filter((r) => r.key !== row.key))}
            >
              <Icon name="close" size={14} />
            </button>
            <input
              className="input inputs-list__description"
              value={row.description}
              placeholder="What it is, for people and AI models"
              aria-label={`Input ${index + 1} description`}
              onChange={(e) => update(row.key, { description: e.target.value })}
            />
          </div>
        ))}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => setRows([...rows, { name: '', type: 'string', required: false, description: '', rest: {}, key: nextKey.current++ }])}
          data-testid="workflow-input-add"
        >
          <Icon name="plus" size={14} /> Add input
        </button>
      </div>
      {problem ? (
        <p className="field__error" role="alert">
          {problem}
        </p>
      ) : (
        <p className="field__hint">
          What runs of this workflow take: templates read each as {'{{ name }}'}. A run without a required input, or with one of the wrong
          type, is refused. Agents and MCP clients see them as the tool’s parameters.
        </p>
      )}
    </div>
  );
}

export function ExposeAsTool() {
  const exposed = useBuilder((s) => s.meta.exposeAsTool === true);
  const setMeta = useBuilder((s) => s.setMeta);
  const id = useId();
  return (
    <div className="field field--inline" data-testid="expose-as-tool">
      <div className="field__switch-row">
        <label className="field__label" htmlFor={id}>
          Expose as MCP tool
        </label>
        <Switch id={id} checked={exposed} label="Expose as MCP tool" onChange={(on) => setMeta({ exposeAsTool: on || undefined })} testId="expose-as-tool-switch" />
      </div>
      <p className="field__hint">
        While the workflow is active, assistants connected to <code>/mcp</code> with an API token can list and call it, with its
        description and inputs.
      </p>
    </div>
  );
}
