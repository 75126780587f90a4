// REST calls to the gateway. Same origin as the page, so paths are relative.

import type {
  ApprovalAnswer,
  Credential,
  FieldError,
  McpToolsList,
  ImportResponse,
  ImportSource,
  NewCredential,
  NodeTypeList,
  Run,
  RunQuery,
  RunSummary,
  SessionInfo,
  StepItems,
  StepOutput,
  TemplateSummary,
  ValidateOk,
  WorkflowSummary,
  WorkflowVersion,
  WorkflowSettings,
  WorkflowVersionInfo,
  WorkflowView,
} from './types';
import type { GraphDocument } from '../graph/document';
import type { PreviewContext, PreviewMode } from '../graph/preview';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];
  /** The whole `error` object of the body, for what some answers add beside the message (a 409 `in_use`'s `usedBy`). */
  readonly detail: Record<string, unknown>;

  constructor(status: number, code: string, message: string, fields: FieldError[] = [], detail: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.detail = detail;
  }

  /** True when the request never got an answer, so the server may or may not have acted on it. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export type ExpressionPreview = { value: unknown } | { error: string };

/** A builder run's pinned outputs (`pinData`, by node id) and, for Test step, the node it runs to (`runTo`). */
export interface PartialRun {
  pinData?: Record<string, unknown>;
  runTo?: string;
}

export interface Api {
  createRun(graph: GraphDocument, idempotencyKey: string, inputs?: Record<string, unknown>, partial?: PartialRun): Promise<{ runId: string }>;
  /** Any workflow the server accepts: the builder's document, or a template-format file being imported. */
  validate(graph: GraphDocument | Record<string, unknown>, signal?: AbortSignal): Promise<ValidateOk>;
  /** The node types the builder draws its palette, nodes and forms from. */
  listNodeTypes(): Promise<NodeTypeList>;
  getRun(id: string): Promise<Run>;
  /** A step's output and request, for one whose are kept apart (its `outputRef` is set). */
  getStepOutput(runId: string, stepId: string): Promise<StepOutput>;
  /** One page of a loop's items, or of a loop body step across them, in index order. */
  listStepItems(runId: string, stepId: string, offset: number, limit: number): Promise<StepItems>;
  /** Answers a waiting approval step at its resume URL (absolute, or a path); a 409 ApiError when it no longer
   *  waits (`already_resumed`, `timed_out`, `not_waiting`). */
  resume(resumeUrl: string, answer: ApprovalAnswer): Promise<void>;
  listRuns(query: RunQuery): Promise<{ runs: RunSummary[]; next: string | null }>;
  cancelRun(id: string): Promise<void>;
  rerun(id: string): Promise<{ runId: string }>;
  /** Who this browser is signed in as; a 401 ApiError when it is not. */
  getSession(): Promise<SessionInfo>;
  /** A one-time code (from the link `up` prints) or a token. A 409 ApiError, whose `detail.signIn` names both, when
   *  this browser is signed in as someone else and `replace` is not set: the user is asked first. */
  signIn(credentials: { token: string } | { code: string; replace?: boolean }): Promise<SessionInfo>;
  signOut(): Promise<void>;
  listWorkflows(): Promise<WorkflowSummary[]>;
  getWorkflow(id: string): Promise<WorkflowView>;
  /** `settings` are sent beside the graph, each only when given. */
  createWorkflow(name: string, graph: GraphDocument, settings?: WorkflowSettings): Promise<WorkflowSummary & WorkflowSettings>;
  /** A new version on top of `baseVersion`; a 409 ApiError when someone saved after it. */
  updateWorkflow(id: string, graph: GraphDocument, baseVersion: number, name?: string, settings?: WorkflowSettings): Promise<WorkflowView>;
  deleteWorkflow(id: string): Promise<void>;
  listVersions(id: string): Promise<WorkflowVersionInfo[]>;
  getVersion(id: string, version: number): Promise<WorkflowVersion>;
  setActive(id: string, active: boolean, version?: number): Promise<WorkflowView>;
  runSaved(id: string, version: number, idempotencyKey: string, inputs?: Record<string, unknown>, partial?: PartialRun): Promise<{ runId: string }>;
  previewSchedule(config: Record<string, unknown>, signal?: AbortSignal): Promise<string[]>;
  /** An MCP server's tools, listed by an engine with the stored token: `{tools}`, or `{tools: [], error}` in words. */
  listServerTools(serverUrl: string, credentialName?: string): Promise<McpToolsList>;
  /** An expression's value, rendered by an engine against a run or a sample: `{value}`, or `{error}` in words. */
  previewExpression(expression: string, context: PreviewContext, mode: PreviewMode, signal?: AbortSignal): Promise<ExpressionPreview>;
  /** An n8n workflow, a Node-RED flow or our own export, converted into a graph with a report node by node; the
   *  format is detected when `source` is not given. A 422 ApiError when it is not a workflow, saying what was expected. */
  importWorkflow(document: unknown, source?: ImportSource): Promise<ImportResponse>;
  listTemplates(): Promise<TemplateSummary[]>;
  getTemplate(id: string): Promise<unknown>;
  listCredentials(): Promise<Credential[]>;
  createCredential(credential: NewCredential): Promise<Credential>;
  /** `allowedHosts` undefined keeps the credential's fence; [] removes it. */
  replaceCredential(name: string, value: string, description?: string | null, allowedHosts?: string[]): Promise<Credential>;
  /** A 409 `in_use` ApiError while saved workflows use it (its `detail.usedBy` names them), unless `force`. */
  deleteCredential(name: string, force?: boolean): Promise<void>;
}

/** The optional parts of a run request, left out when empty (a run without pins is an ordinary run). */
function runStart(inputs: Record<string, unknown> | undefined, partial: PartialRun | undefined): Record<string, unknown> {
  return {
    ...(inputs && Object.keys(inputs).length > 0 ? { inputs } : {}),
    ...(partial?.pinData && Object.keys(partial.pinData).length > 0 ? { pinData: partial.pinData } : {}),
    ...(partial?.runTo ? { runTo: partial.runTo } : {}),
  };
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'Cannot reach the AutomateOS server');
  }
  const text = await response.text();
  let payload: unknown = undefined;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
  }
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; fields?: FieldError[] } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
      error?.fields ?? [],
      error && typeof error === 'object' ? (error as Record<string, unknown>) : {},
    );
  }
  if (payload === undefined && text) throw new ApiError(response.status, 'bad_response', 'The server sent a response that is not JSON');
  return payload as T;
}

/**
 * Where the builder posts a resume URL's answer: its path, on this page's own server. The URL is absolute for
 * people and systems outside (under AUTOMATEOS_PUBLIC_URL when set); the gateway serving the builder serves the
 * same route, and a same-origin request is one its CSRF guard and the browser's CORS rules let through.
 */
export function resumePath(resumeUrl: string): string {
  const url = new URL(resumeUrl, 'http://this.invalid');
  return `${url.pathname}${url.search}`;
}

export const httpApi: Api = {
  createRun: (graph, idempotencyKey, inputs, partial) =>
    request('POST', '/v1/runs', { graph, idempotencyKey, ...runStart(inputs, partial) }),
  validate: (graph, signal) => request('POST', '/v1/workflows/validate', { graph }, signal),
  listNodeTypes: () => request('GET', '/v1/node-types'),
  getRun: (id) => request('GET', `/v1/runs/${encodeURIComponent(id)}`),
  getStepOutput: (runId, stepId) =>
    request('GET', `/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/output`),
  listStepItems: (runId, stepId, offset, limit) =>
    request(
      'GET',
      `/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(stepId)}/items?offset=${offset}&limit=${limit}`,
    ),
  resume: async (resumeUrl, answer) => {
    await request('POST', resumePath(resumeUrl), answer);
  },
  listRuns: (query) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
    return request('GET', `/v1/runs?${params.toString()}`);
  },
  cancelRun: async (id) => {
    await request('POST', `/v1/runs/${encodeURIComponent(id)}/cancel`);
  },
  rerun: (id) => request('POST', `/v1/runs/${encodeURIComponent(id)}/rerun`),
  getSession: () => request('GET', '/v1/session'),
  signIn: (credentials) => request('POST', '/v1/session', credentials),
  signOut: async () => {
    await request('DELETE', '/v1/session');
  },
  listWorkflows: async () => {
    // The server answers a page at a time (most recently changed first); the drawer lists them all.
    const all: WorkflowSummary[] = [];
    let before: number | null = null;
    do {
      const page: { workflows: WorkflowSummary[]; next: number | null } = await request(
        'GET',
        `/v1/workflows?limit=500${before === null ? '' : `&before=${before}`}`,
      );
      all.push(...page.workflows);
      before = page.next;
    } while (before !== null);
    return all;
  },
  getWorkflow: (id) => request('GET', `/v1/workflows/${encodeURIComponent(id)}`),
  // A setting left undefined is left out of the body (JSON has no undefined); null is sent, and clears it.
  createWorkflow: (name, graph, settings) => request('POST', '/v1/workflows', { name, graph, ...settings }),
  updateWorkflow: (id, graph, baseVersion, name, settings) =>
    request('PUT', `/v1/workflows/${encodeURIComponent(id)}`, { graph, baseVersion, ...(name ? { name } : {}), ...settings }),
  deleteWorkflow: async (id) => {
    await request('DELETE', `/v1/workflows/${encodeURIComponent(id)}`);
  },
  listVersions: async (id) =>
    (await request<{ versions: WorkflowVersionInfo[] }>('GET', `/v1/workflows/${encodeURIComponent(id)}/versions`)).versions,
  getVersion: (id, version) => request('GET', `/v1/workflows/${encodeURIComponent(id)}/versions/${version}`),
  setActive: (id, active, version) =>
    request('POST', `/v1/workflows/${encodeURIComponent(id)}/${active ? 'activate' : 'deactivate'}`, active && version ? { version } : undefined),
  runSaved: (id, version, idempotencyKey, inputs, partial) =>
    request('POST', '/v1/runs', { workflowId: id, version, idempotencyKey, ...runStart(inputs, partial) }),
  previewExpression: (expression, context, mode, signal) =>
    request('POST', '/v1/expressions/preview', { expression, context, ...(mode === 'condition' ? { mode } : {}) }, signal),
  listServerTools: (serverUrl, credentialName) =>
    request('POST', '/v1/mcp-servers/tools', { serverUrl, ...(credentialName ? { credentialName } : {}) }),
  previewSchedule: async (config, signal) =>
    (await request<{ nextRuns: string[] }>('POST', '/v1/schedules/preview', config, signal)).nextRuns,
  importWorkflow: (document, source) => request('POST', '/v1/import', source ? { document, source } : { document }),
  listTemplates: async () => (await request<{ templates: TemplateSummary[] }>('GET', '/v1/templates')).templates,
  getTemplate: (id) => request('GET', `/v1/templates/${encodeURIComponent(id)}`),
  listCredentials: () => request('GET', '/v1/credentials'),
  createCredential: (credential) => request('POST', '/v1/credentials', credential),
  replaceCredential: (name, value, description, allowedHosts) =>
    request('PUT', `/v1/credentials/${encodeURIComponent(name)}`, {
      value,
      ...(description ? { description } : {}),
      ...(allowedHosts ? { allowedHosts } : {}),
    }),
  deleteCredential: async (name, force) => {
    await request('DELETE', `/v1/credentials/${encodeURIComponent(name)}${force ? '?force=true' : ''}`);
  },
};
