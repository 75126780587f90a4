// The agent step's tools, picked rather than typed: saved workflows by name (each offered to the model as a function
// tool), and MCP servers as rows of a URL and the credential holding its token. Never raw JSON.

import { useId } from 'react';
import { useWorkflows } from '../app/services';
import { isPlainObject } from '../graph/document';
import { useBuilder } from '../store/hooks';
import { Field, FieldNotes, type ControlProps } from './controls';
import { Icon } from './icons';
import { WorkflowPicker } from './WorkflowPicker';

export function WorkflowsControl({ field, config, errors, onChange }: ControlProps) {
  const id = useId();
  const list = useWorkflows((s) => s.list);
  const self = useWorkflows((s) => s.binding?.workflowId ?? null);
  const raw = config[field.key];
  const chosen = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  const nameOf = (workflowId: string) => list.find((w) => w.id === workflowId)?.name ?? workflowId;
  const set = (next: string[]) => onChange({ [field.key]: next });
  return (
    <Field label={field.ui.label} htmlFor={id} errors={errors} hint={field.ui.help ?? undefined} testId={`field-${field.key}`}>
      {chosen.length > 0 && (
        <ul className="picked-list" data-testid={`${field.key}-picked`}>
          {chosen.map((workflowId) => (
            <li key={workflowId} className="picked-list__item">
              <span>{nameOf(workflowId)}</span>
              <button
                type="button"
                className="icon-button icon-button--quiet"
                aria-label={`Remove ${nameOf(workflowId)}`}
                onClick={() => set(chosen.filter((c) => c !== workflowId))}
              >
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <WorkflowPicker
        id={id}
        value={null}
        onChange={(picked) => picked && !chosen.includes(picked) && set([...chosen, picked])}
        exclude={self}
        noneLabel="None"
        invalid={errors.length > 0}
        testId={`workflow-picker-${field.key}`}
      />
    </Field>
  );
}

type Server = { url: string; credentialName?: string };

export function McpServersControl({ field, config, errors, onChange }: ControlProps) {
  const labelId = useId();
  const credentials = useBuilder((s) => s.credentials.items);
  const raw = config[field.key];
  const servers: Server[] = Array.isArray(raw)
    ? raw.filter(isPlainObject).map((s) => ({
        url: typeof s.url === 'string' ? s.url : '',
        ...(typeof s.credentialName === 'string' && s.credentialName ? { credentialName: s.credentialName } : {}),
      }))
    : [];
  const set = (next: Server[]) => onChange({ [field.key]: next });
  const update = (index: number, patch: Partial<Server>) =>
    set(
      servers.map((s, i) => {
        if (i !== index) return s;
        const merged = { ...s, ...patch };
        if (!merged.credentialName) delete merged.credentialName;
        return merged;
      }),
    );
  return (
    <div className={`field${errors.length > 0 ? ' field--invalid' : ''}`} data-testid={`field-${field.key}`}>
      <span className="field__label" id={labelId}>
        {field.ui.label}
      </span>
      <div className="kv" role="group" aria-labelledby={labelId}>
        {servers.map((server, index) => (
          <div className="kv__row kv__row--server" key={index} data-testid={`${field.key}-row`}>
            <input
              className="input input--mono"
              value={server.url}
              placeholder="https://mcp.example.com/mcp"
              aria-label={`MCP server ${index + 1} URL`}
              spellCheck={false}
              onChange={(e) => update(index, { url: e.target.value })}
            />
            <select
              className="input input--mono"
              value={server.credentialName ?? ''}
              aria-label={`MCP server ${index + 1} token`}
              onChange={(e) => update(index, { credentialName: e.target.value })}
            >
              <option value="">No token</option>
              {server.credentialName && !credentials.some((c) => c.name === server.credentialName) && (
                <option value={server.credentialName}>{server.credentialName} (missing)</option>
              )}
              {credentials.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="icon-button icon-button--quiet"
              aria-label={`Remove MCP server ${index + 1}`}
              onClick={() => set(servers.filter((_, i) => i !== index))}
            >
              <Icon name="close" size={14} />
            </button>
          </div>
        ))}
        <button
          type="button"
          className="button button--ghost button--small"
          onClick={() => set([...servers, { url: '' }])}
          data-testid={`${field.key}-add`}
        >
          <Icon name="plus" size={14} /> Add MCP server
        </button>
      </div>
      <FieldNotes field={field} errors={errors} />
    </div>
  );
}
