// An mcp_tool step's tool: typed, or picked from the server's own list. An engine lists them (POST
// /v1/mcp-servers/tools) with the step's token, through its outbound guard, as the step itself would connect.

import { useId, useState } from 'react';
import type { McpToolInfo } from '../api/types';
import { useServices } from '../app/services';
import { isPlainObject } from '../graph/document';
import { Field, type ControlProps } from './controls';
import { Icon } from './icons';

type Listing = { kind: 'idle' } | { kind: 'loading' } | { kind: 'ready'; tools: McpToolInfo[] } | { kind: 'error'; message: string };

export function McpToolControl({ field, config, errors, onChange }: ControlProps) {
  const { api } = useServices();
  const id = useId();
  const [listing, setListing] = useState<Listing>({ kind: 'idle' });
  const raw = config[field.key];
  const serverUrl = typeof config.serverUrl === 'string' ? config.serverUrl.trim() : '';
  const credentialName = typeof config.credentialName === 'string' ? config.credentialName : undefined;

  const list = async () => {
    setListing({ kind: 'loading' });
    try {
      const answer = await api.listServerTools(serverUrl, credentialName);
      setListing(answer.error ? { kind: 'error', message: answer.error } : { kind: 'ready', tools: answer.tools });
    } catch (error) {
      setListing({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  };

  const pick = (tool: McpToolInfo) => {
    const patch: Record<string, unknown> = { [field.key]: tool.name };
    // Arguments not set yet: one row per parameter the tool declares, for the user to fill in.
    const properties = isPlainObject(tool.inputSchema.properties) ? Object.keys(tool.inputSchema.properties) : [];
    const current = config.arguments;
    if (properties.length > 0 && (!isPlainObject(current) || Object.keys(current).length === 0))
      patch.arguments = Object.fromEntries(properties.map((name) => [name, '']));
    onChange(patch);
    setListing({ kind: 'idle' });
  };

  return (
    <Field
      label={field.ui.label}
      htmlFor={id}
      errors={errors}
      hint={field.ui.help ?? undefined}
      testId={`field-${field.key}`}
      action={
        <button
          type="button"
          className="link-button"
          disabled={serverUrl === '' || listing.kind === 'loading'}
          title={serverUrl === '' ? 'Enter the server URL first' : 'Ask the server which tools it offers'}
          onClick={() => void list()}
          data-testid="mcp-list-tools"
        >
          {listing.kind === 'loading' ? 'Listing…' : 'List tools'}
        </button>
      }
    >
      <input
        id={id}
        className="input input--mono"
        value={typeof raw === 'string' ? raw : ''}
        placeholder={field.ui.placeholder ?? undefined}
        aria-invalid={errors.length > 0}
        spellCheck={false}
        onChange={(e) => onChange({ [field.key]: e.target.value })}
      />
      {listing.kind === 'error' && (
        <p className="field__error" role="alert" data-testid="mcp-tools-error">
          {listing.message}
        </p>
      )}
      {listing.kind === 'ready' &&
        (listing.tools.length === 0 ? (
          <p className="muted small">The server offers no tools.</p>
        ) : (
          <ul className="mcp-tools" aria-label="The server's tools" data-testid="mcp-tools">
            {listing.tools.map((tool) => (
              <li key={tool.name}>
                <button type="button" className="mcp-tools__item" onClick={() => pick(tool)} data-testid={`mcp-tool-${tool.name}`}>
                  <span className="mono">{tool.name}</span>
                  {tool.description && <span className="muted small">{tool.description}</span>}
                </button>
              </li>
            ))}
            <li>
              <button type="button" className="link-button small" onClick={() => setListing({ kind: 'idle' })}>
                <Icon name="close" size={12} /> Close the list
              </button>
            </li>
          </ul>
        ))}
    </Field>
  );
}
