// One declaration per node type: its parameters, defaults, form controls and checks.
// The inspector form, the palette, new-node defaults and client validation all read from here.
// Keep in step with the Python HTTP node schema (docs/API.md, "HTTP node config").

import { isPlainObject, type NodeKind } from './document';
import { hasTemplate, unclosedTemplate } from './variables';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const TIMEOUT_MIN_MS = 1;
export const TIMEOUT_MAX_MS = 300_000;

type Config = Record<string, unknown>;
type Check = (value: unknown, config: Config) => string | null;

interface ParameterBase {
  /** Key in `data.config`. */
  key: string;
  label: string;
  hint?: string;
  /** Other config keys whose server errors belong to this control. */
  aliases?: readonly string[];
  validate?: Check;
}

export type Parameter = ParameterBase &
  (
    | { control: 'select'; options: readonly string[] }
    /** `templated`: the server renders {{variables}} in it, so the form offers "Insert variable". */
    | { control: 'text'; placeholder?: string; required?: boolean; monospace?: boolean; templated?: boolean }
    | { control: 'number'; min: number; max: number; unit?: string; placeholder?: string }
    /** Values are templated (names are not). */
    | { control: 'keyValue'; keyPlaceholder?: string; valuePlaceholder?: string }
    /** Body: none, JSON (`json_body`) or raw text (`body`), never both. */
    | { control: 'body' }
    /** `auth: {credentialName}`: a reference to a stored credential, never the secret itself. */
    | { control: 'credential' }
  );

export interface NodeDefinition {
  type: NodeKind;
  title: string;
  description: string;
  /** Single-letter glyph drawn in the node's icon chip. */
  glyph: string;
  accent: string;
  /** Wire type of the step this node becomes (as reported in run steps). */
  stepType?: string;
  defaultLabel: string;
  hasInput: boolean;
  hasOutput: boolean;
  parameters: readonly Parameter[];
  defaults: Config;
  /** Short line shown under the label on the canvas. */
  summary: (config: Config) => string;
}

function defineNode(definition: NodeDefinition): NodeDefinition {
  return definition;
}

const isHttpUrl = (value: string) => /^https?:\/\/\S+$/i.test(value.trim());
const UNCLOSED = 'A {{ variable is not closed with }}';

/** Whether any string inside a JSON value (keys included) has an unclosed `{{`. */
function unclosedIn(value: unknown): boolean {
  if (typeof value === 'string') return unclosedTemplate(value);
  if (Array.isArray(value)) return value.some(unclosedIn);
  if (isPlainObject(value)) return Object.entries(value).some(([k, v]) => unclosedTemplate(k) || unclosedIn(v));
  return false;
}

export const startNode = defineNode({
  type: 'start',
  title: 'Start',
  description: 'Where every run begins',
  glyph: '▶',
  accent: '#16a34a',
  defaultLabel: 'Start',
  hasInput: false,
  hasOutput: true,
  parameters: [],
  defaults: {},
  summary: () => 'Manual trigger',
});

export const httpNode = defineNode({
  type: 'http',
  title: 'HTTP Request',
  description: 'Call any URL with a method, headers and body',
  glyph: 'H',
  accent: '#4f46e5',
  stepType: 'http_request_node',
  defaultLabel: 'HTTP Request',
  hasInput: true,
  hasOutput: true,
  parameters: [
    {
      key: 'method',
      label: 'Method',
      control: 'select',
      options: HTTP_METHODS,
      validate: (v) =>
        v === undefined || (typeof v === 'string' && (HTTP_METHODS as readonly string[]).includes(v))
          ? null
          : `Method must be one of ${HTTP_METHODS.join(', ')}`,
    },
    {
      key: 'url',
      label: 'URL',
      control: 'text',
      placeholder: 'https://api.example.com/hook',
      required: true,
      monospace: true,
      templated: true,
      validate: (v) => {
        if (typeof v !== 'string' || v.trim() === '') return 'URL is required';
        // With a {{variable}} the server checks the URL once it is filled in, at run time.
        if (hasTemplate(v)) return unclosedTemplate(v) ? UNCLOSED : null;
        return isHttpUrl(v) ? null : 'URL must start with http:// or https://';
      },
    },
    {
      key: 'headers',
      label: 'Headers',
      control: 'keyValue',
      keyPlaceholder: 'Header',
      valuePlaceholder: 'Value',
      validate: (v) => {
        if (v === undefined) return null;
        if (!isPlainObject(v)) return 'Headers must be name/value pairs';
        for (const [name, value] of Object.entries(v)) {
          if (name.trim() === '') return 'Every header needs a name';
          if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return `“${name}” is not a valid header name`;
          if (typeof value !== 'string') return `Header “${name}” must be text`;
          if (unclosedTemplate(value)) return `Header “${name}”: ${UNCLOSED}`;
        }
        return null;
      },
    },
    {
      key: 'json_body',
      aliases: ['body'],
      label: 'Body',
      control: 'body',
      validate: (_v, config) =>
        config.body !== undefined && config.json_body !== undefined
          ? 'Use either a JSON body or a text body, not both'
          : config.body !== undefined && typeof config.body !== 'string'
            ? 'Text body must be a string'
            : unclosedIn(config.body) || unclosedIn(config.json_body)
              ? `Body: ${UNCLOSED}`
              : null,
    },
    {
      key: 'auth',
      label: 'Credential',
      hint: 'Sent as Authorization: Bearer <secret>. The secret stays on the server, never in the workflow.',
      control: 'credential',
      validate: (v) => {
        if (v === undefined || v === null) return null;
        if (!isPlainObject(v) || typeof v.credentialName !== 'string' || v.credentialName.trim() === '')
          return 'Credential needs a name';
        return null;
      },
    },
    {
      key: 'timeoutMs',
      label: 'Timeout',
      control: 'number',
      min: TIMEOUT_MIN_MS,
      max: TIMEOUT_MAX_MS,
      unit: 'ms',
      placeholder: '30000',
      validate: (v) => {
        if (v === undefined || v === null) return null;
        if (typeof v !== 'number' || !Number.isInteger(v)) return 'Timeout must be a whole number of milliseconds';
        if (v < TIMEOUT_MIN_MS || v > TIMEOUT_MAX_MS)
          return `Timeout must be between ${TIMEOUT_MIN_MS} and ${TIMEOUT_MAX_MS.toLocaleString('en-US')} ms`;
        return null;
      },
    },
  ],
  defaults: { method: 'GET', url: '', headers: {}, timeoutMs: 30_000 },
  summary: (config) => {
    const method = typeof config.method === 'string' ? config.method : 'GET';
    const url = typeof config.url === 'string' && config.url.trim() !== '' ? config.url.trim() : 'No URL yet';
    return `${method} ${url.replace(/^https?:\/\//i, '')}`;
  },
});

export const NODE_DEFINITIONS: Record<NodeKind, NodeDefinition> = { start: startNode, http: httpNode };
export const PALETTE: readonly NodeDefinition[] = [startNode, httpNode];

export function definitionOf(type: string): NodeDefinition | undefined {
  return (NODE_DEFINITIONS as Record<string, NodeDefinition | undefined>)[type];
}

/** The parameter a config key (or a server error on it) belongs to. */
export function parameterFor(definition: NodeDefinition, configKey: string): Parameter | undefined {
  return definition.parameters.find((p) => p.key === configKey || p.aliases?.includes(configKey));
}

export function defaultConfig(definition: NodeDefinition): Config {
  return structuredClone(definition.defaults);
}
