import { describe, expect, it } from 'vitest';
import { NODE_TYPES, testCatalogue } from '../api/fake';
import { findCycle } from './algorithms';
import type { GraphDocument } from './document';
import { createCatalogue, formFields, type NodeTypeInfo } from './nodeTypes';
import { schemaProblems } from './schemaCheck';
import { issuesFromServer, mergeIssues, validateGraph } from './validate';

const catalogue = testCatalogue();

const doc = (): GraphDocument => ({
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
    { id: 'a', type: 'http', position: { x: 1, y: 0 }, data: { label: 'A', config: { method: 'GET', url: 'https://a.example' } } },
    { id: 'b', type: 'http', position: { x: 2, y: 0 }, data: { label: 'B', config: { method: 'GET', url: 'https://b.example' } } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'a' },
    { id: 'e2', source: 'a', target: 'b' },
  ],
  meta: { name: 'w', version: 1 },
});

/** A node type only the server knows, as pydantic would describe its config. */
const ticket: NodeTypeInfo = {
  type: 'ticket',
  aliases: [],
  kind: 'action',
  title: 'Open ticket',
  description: 'File a ticket',
  version: 1,
  inputs: [{ id: 'in', label: '' }],
  outputs: [{ id: 'out', label: '' }],
  dynamicOutputs: null,
  configSchema: {
    $defs: { Owner: { type: 'object', properties: { team: { type: 'string', minLength: 2 } }, required: ['team'] } },
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1, maxLength: 80 },
      priority: { enum: ['low', 'high'], type: 'string', default: 'low' },
      estimate: { anyOf: [{ type: 'integer', minimum: 1, maximum: 40 }, { type: 'null' }], default: null },
      owner: { anyOf: [{ $ref: '#/$defs/Owner' }, { type: 'null' }], default: null },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    },
    required: ['title', 'tags'],
  },
  templatedFields: ['title'],
  credentialFields: [],
  completes: 'worker',
  ui: {
    glyph: 'T',
    accent: '#000',
    outputFields: {},
    outputFieldsFrom: null,
    defaultLabel: 'Ticket',
    summary: '{title}',
    errorHandling: true,
    idPrefix: 'ticket',
    defaults: { title: '', tags: [] },
    fields: {
      title: { widget: 'text', label: 'Title', order: 0, placeholder: null, help: null, templated: true, monospace: false, aliases: [], optionLabels: {} },
      priority: { widget: 'select', label: 'Priority', order: 1, placeholder: null, help: null, templated: false, monospace: false, aliases: [], optionLabels: {} },
      estimate: { widget: 'number', label: 'Estimate', order: 2, placeholder: null, help: null, templated: false, monospace: false, aliases: ['hours'], optionLabels: {} },
      owner: { widget: 'json', label: 'Owner', order: 3, placeholder: null, help: null, templated: false, monospace: false, aliases: [], optionLabels: {} },
      tags: { widget: 'list', label: 'Tags', order: 4, placeholder: null, help: null, templated: false, monospace: false, aliases: [], optionLabels: {} },
    },
  },
};
const withTicket = createCatalogue({ ...NODE_TYPES, nodeTypes: [...NODE_TYPES.nodeTypes, ticket] });

function ticketDoc(config: Record<string, unknown>, settings?: Record<string, unknown>): GraphDocument {
  const d = doc();
  d.nodes.push({ id: 't', type: 'ticket', position: { x: 3, y: 0 }, data: { label: 'T', config, ...(settings ? { settings } : {}) } });
  d.edges.push({ id: 'e3', source: 'b', target: 't' });
  return d;
}
const problemsOf = (d: GraphDocument) =>
  Object.fromEntries(validateGraph(d, withTicket).filter((i) => i.nodeId === 't').map((i) => [i.field, i.message]));

describe('checks from a configSchema', () => {
  it('accepts a valid graph', () => {
    expect(validateGraph(doc(), catalogue)).toEqual([]);
  });

  it('words each schema problem with the field’s label, on that field', () => {
    expect(problemsOf(ticketDoc({ title: '', priority: 'urgent', estimate: 99, owner: { team: 'x' }, tags: [] }))).toEqual({
      title: 'Title is required',
      priority: 'Priority must be one of low, high',
      estimate: 'Estimate must be between 1 and 40',
      owner: 'Owner must be at least 2 characters',
      tags: 'Tags needs at least one entry',
    });
  });

  it('reads optional fields (anyOf with null) and $refs, and names missing required ones', () => {
    expect(problemsOf(ticketDoc({ title: 'ok', tags: ['x'], estimate: null, owner: null }))).toEqual({});
    expect(problemsOf(ticketDoc({ estimate: 'soon', owner: {} }))).toEqual({
      title: 'Title is required',
      tags: 'Tags is required',
      estimate: 'Estimate must be a whole number',
      owner: 'Owner is required',
    });
  });

  it('flags an unclosed {{ in templated fields only', () => {
    expect(problemsOf(ticketDoc({ title: 'Hi {{ inputs.name', tags: ['{{ not templated'] }))).toEqual({
      title: 'A {{ variable is not closed with }}',
    });
  });

  it('checks data.settings against the settings schema', () => {
    expect(problemsOf(ticketDoc({ title: 'ok', tags: ['x'] }, { retry: { maxAttempts: 20 }, onError: 'retry' }))).toEqual({
      'settings.retry.maxAttempts': 'Attempts must be between 1 and 10', // the label the form shows,
      'settings.onError': 'When it fails must be one of fail, continue',
    });
  });

  it('gives the catalogue’s HTTP fields the same treatment', () => {
    const d = doc();
    d.nodes[1]!.data.config = { method: 'FETCH', url: '', timeoutMs: 0, headers: { a: 1 }, sendIdempotencyKey: 'yes' };
    const byField = Object.fromEntries(validateGraph(d, catalogue).map((i) => [i.field, i.message]));
    expect(byField).toEqual({
      method: 'Method must be one of GET, POST, PUT, PATCH, DELETE',
      url: 'URL is required',
      timeoutMs: 'Timeout (ms) must be between 1 and 300,000',
      headers: 'Headers must be text',
      sendIdempotencyKey: 'Send Idempotency-Key must be on or off',
    });
  });

  it('draws form fields in their declared order, with plain schemas', () => {
    const fields = formFields(ticket);
    expect(fields.map((f) => [f.key, f.ui.widget, f.required])).toEqual([
      ['title', 'text', true],
      ['priority', 'select', false],
      ['estimate', 'number', false],
      ['owner', 'json', false],
      ['tags', 'list', true],
    ]);
    expect(fields[2]!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 40 });
    expect(fields[3]!.schema).toMatchObject({ type: 'object', required: ['team'] });
  });

  it('survives a schema it cannot compile', () => {
    expect(schemaProblems({ type: 'object', properties: { a: { $ref: '#/$defs/Missing' } } }, { a: 1 }, () => 'A')).toEqual([]);
  });
});

describe('graph checks', () => {
  it('finds cycles, unreachable nodes and extra triggers', () => {
    const d = doc();
    d.edges.push({ id: 'e3', source: 'b', target: 'a' });
    expect(findCycle(d)).toBe('a');
    d.nodes.push({ id: 'c', type: 'http', position: { x: 0, y: 0 }, data: { label: 'C', config: { url: 'https://c' } } });
    d.nodes.push({ id: 's2', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } });
    const messages = validateGraph(d, catalogue).map((i) => `${i.nodeId}: ${i.message}`);
    expect(messages).toContain('a: Connections form a loop; workflows must flow one way');
    expect(messages).toContain('s2: A workflow has one trigger; remove this one');
  });

  it('reports drafts that do not parse yet, instead of the schema’s view of the last value', () => {
    expect(validateGraph(doc(), catalogue, { drafts: { a: { json_body: 'Invalid JSON' } } })).toEqual([
      { nodeId: 'a', field: 'json_body', message: 'Invalid JSON', source: 'client' },
    ]);
  });

  it('wants every edge from a branching node to name an output it has', () => {
    const d = doc();
    d.nodes.push({ id: 'sw', type: 'switch', position: { x: 3, y: 0 }, data: { label: 'Route', config: { value: '{{ inputs.r }}', cases: ['eu', 'us'] } } });
    d.edges.push({ id: 'e3', source: 'b', target: 'sw' }, { id: 'e4', source: 'sw', target: 'a' }, { id: 'e5', source: 'sw', target: 'a', sourceHandle: 'asia' });
    d.edges.splice(1, 1);
    expect(validateGraph(d, catalogue).filter((i) => i.edgeId).map((i) => [i.edgeId, i.message])).toEqual([
      ['e4', 'Connect from one of its outputs (eu, us, default)'],
      ['e5', 'A connection leaves from “asia”, which is no longer one of its outputs'],
    ]);
  });

  it('blocks a credential that does not exist, with the name to add', () => {
    const d = doc();
    d.nodes[1]!.data.config = { url: "https://a.example/{{ getCredential('hook') }}", auth: { credentialName: 'api' } };
    expect(validateGraph(d, catalogue).filter((i) => i.action)).toEqual([]); // names unknown yet: not checked
    const issues = validateGraph(d, catalogue, { credentials: ['hook'] });
    expect(issues).toEqual([
      { nodeId: 'a', field: 'auth', message: 'Credential “api” does not exist', action: { kind: 'addCredential', name: 'api' }, source: 'client' },
    ]);
  });
});

describe('server errors', () => {
  it('maps 422 field paths to nodes and inspector fields, worded with the field’s label', () => {
    const issues = issuesFromServer(doc(), catalogue, [
      { field: 'graph.nodes[2].data.config.url', reason: 'must start with http:// or https://', nodeId: null, edgeId: null },
      { field: 'graph.nodes[1].data.config.body', reason: 'not both', nodeId: 'a', edgeId: null },
      { field: 'graph.nodes[1].data.label', reason: 'too long', nodeId: null, edgeId: null },
      { field: 'graph.nodes[1].data.settings.retry.maxAttempts', reason: 'Input should be less than or equal to 10', nodeId: null, edgeId: null },
      { field: 'graph.edges[1].sourceHandle', reason: 'an edge from a must say which output', nodeId: 'a', edgeId: 'e2' },
      { field: 'graph', reason: 'no start', nodeId: null, edgeId: null },
    ]);
    expect(issues).toEqual([
      { message: 'URL must start with http:// or https://', nodeId: 'b', field: 'url', source: 'server' },
      { message: 'Body: not both', nodeId: 'a', field: 'json_body', source: 'server' },
      { message: 'too long', nodeId: 'a', field: 'label', source: 'server' },
      { message: 'Input should be less than or equal to 10', nodeId: 'a', field: 'settings.retry.maxAttempts', source: 'server' },
      { message: 'An edge from a must say which output', nodeId: 'a', edgeId: 'e2', source: 'server' },
      { message: 'No start', source: 'server' },
    ]);
  });

  it('prefers the client message when both flag the same field', () => {
    const client = [{ nodeId: 'b', field: 'url', message: 'URL is required', source: 'client' as const }];
    const server = [
      { nodeId: 'b', field: 'url', message: 'field required', source: 'server' as const },
      { nodeId: 'b', field: 'headers', message: 'bad header', source: 'server' as const },
    ];
    expect(mergeIssues(client, server).map((i) => i.message)).toEqual(['URL is required', 'bad header']);
  });
});

describe('null config and settings', () => {
  it('are not set, not a wrong type: a document holding them (an older draft) has no issue', () => {
    const d = doc();
    (d.nodes[0]!.data as Record<string, unknown>).config = null;
    (d.nodes[1]!.data as Record<string, unknown>).settings = null;
    expect(validateGraph(d, catalogue)).toEqual([]);
  });

  it('still flags a config that is not an object', () => {
    const d = doc();
    (d.nodes[1]!.data as Record<string, unknown>).config = [];
    expect(validateGraph(d, catalogue).map((i) => i.message)).toContain('Configuration must be an object');
  });
});
