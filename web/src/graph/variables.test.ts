import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import type { GraphDocument } from './document';
import { validateGraph } from './validate';
import {
  buildInputs,
  credentialCalls,
  credentialNameOf,
  credentialRefs,
  insertAt,
  insertIntoJson,
  insertVariable,
  insideJsonString,
  isRunInput,
  outputPaths,
  stepRef,
  suggestions,
  upstreamSteps,
} from './variables';

const catalogue = testCatalogue();

function doc(configs: Record<string, Record<string, unknown>>, edges: [string, string][] = []): GraphDocument {
  const ids = Object.keys(configs);
  return {
    nodes: [
      { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
      ...ids.map((id, i) => ({ id, type: 'http' as const, position: { x: 280 * (i + 1), y: 0 }, data: { label: `Step ${id}`, config: configs[id] } })),
    ],
    edges: (edges.length > 0 ? edges : ids.map((id, i) => [i === 0 ? 'start' : ids[i - 1]!, id] as [string, string])).map(
      ([source, target]) => ({ id: `${source}-${target}`, source, target }),
    ),
    meta: { name: 'Vars', version: 1 },
  };
}

const notion = doc({
  'create-page': {
    method: 'POST',
    url: 'https://api.notion.com/v1/pages',
    headers: { 'Content-Type': 'application/json', 'Notion-Version': '2022-06-28' },
    json_body: {
      parent: { database_id: '{{databaseId}}' },
      properties: { title: { title: [{ text: { content: '{{payload.title}}' } }] } },
    },
    auth: { credentialName: 'notionToken' },
  },
});


describe('inputs from paths', () => {
  it('nests dotted paths; `inputs.` means top level', () => {
    expect(buildInputs({ 'payload.title': 'Hi', databaseId: 'abc', 'inputs.x': '1' })).toEqual({
      payload: { title: 'Hi' },
      databaseId: 'abc',
      x: '1',
    });
  });

  it('merges paths under the same object and keeps values as typed', () => {
    expect(buildInputs({ 'payload.a.b': ' x ', 'payload.a.c': '', 'inputs.payload.d': '2' })).toEqual({
      payload: { a: { b: ' x ', c: '' }, d: '2' },
    });
  });
});

describe('templates in client validation', () => {
  it('accepts a URL with a template, refuses an unclosed one', () => {
    const messages = (url: string) => validateGraph(doc({ a: { url } }), catalogue).map((i) => i.message);
    expect(messages('{{baseUrl}}/v1/pages')).toEqual([]);
    expect(messages('https://api.example/{{ databaseId }}')).toEqual([]);
    expect(messages('https://api.example/{{ databaseId')).toEqual(['A {{ variable is not closed with }}']);
  });

  it('accepts template strings inside a JSON body', () => {
    expect(validateGraph(notion, catalogue)).toEqual([]);
  });
});

describe('insert variable', () => {
  const chain = doc({ a: { url: 'https://a.example' }, b: { url: 'https://b.example' }, c: { url: 'https://c.example' } });

  it('offers every ancestor’s output, in run order, and not the trigger', () => {
    expect(upstreamSteps(chain, catalogue, 'c').map((s) => s.id)).toEqual(['a', 'b']);
    expect(upstreamSteps(chain, catalogue, 'a')).toEqual([]);
  });

  it('names steps the way templates accept: steps.id for identifiers, steps[\'id\'] for any other id', () => {
    expect(stepRef('http_1')).toBe('steps.http_1');
    expect(stepRef('a-b')).toBe("steps['a-b']");
    expect(stepRef('1st')).toBe("steps['1st']");
    const texts = suggestions(notion, catalogue, 'create-page', { credentialNames: [], inputs: ['databaseId', 'payload.title'] }).map((s) => [s.group, s.text]);
    // payload.… is the trigger's, never a run input: offered with the trigger, where the workflow already reads it.
    expect(texts).toEqual([['Trigger payload', '{{payload.title}}'], ['Run inputs', '{{databaseId}}']]);
    const hyphen = doc({ 'a-b': { url: 'https://a.example' }, c: { url: 'https://c.example' } });
    const offered = suggestions(hyphen, catalogue, 'c', { credentialNames: [], inputs: ['databaseId', 'payload.title'] }).filter((s) => s.group === 'Step outputs');
    // Before any run, the fields the node type declares it outputs come first.
    expect(offered.map((s) => s.text)).toEqual([
      "{{steps['a-b'].output.body}}", "{{steps['a-b'].output.headers}}", "{{steps['a-b'].output.status}}",
      "{{steps['a-b'].output}}", "{{steps['a-b'].output.}}",
    ]);
    expect(offered[4]?.caret).toBe("{{steps['a-b'].output.".length);
  });

  it('offers the fields a step’s output had in the last run, and .error when its failures are continued', () => {
    const graph = doc({ http_1: { url: 'https://a.example' }, http_2: { url: 'https://b.example' } });
    graph.nodes[1]!.data.settings = { onError: 'continue' };
    const output = { status: 200, headers: { 'Content-Type': 'application/json' }, body: { id: 42, items: [{ sku: 'x' }] } };
    const texts = suggestions(graph, catalogue, 'http_2', { credentialNames: ['k'], inputs: [], outputs: { http_1: output } }).map((s) => s.text);
    expect(texts).toEqual([
      '{{steps.http_1.output.status}}',
      '{{steps.http_1.output.headers}}',
      '{{steps.http_1.output.body}}',
      "{{steps.http_1.output.headers['Content-Type']}}",
      '{{steps.http_1.output.body.id}}',
      '{{steps.http_1.output.body.items}}',
      "{{steps.http_1.output.body.items[0]}}",
      '{{steps.http_1.output}}',
      '{{steps.http_1.output.}}',
      '{{steps.http_1.error}}',
      "{{getCredential('k')}}",
    ]);
    expect(outputPaths('plain text')).toEqual([]);
  });

  it('inserts over the selection, or appends', () => {
    expect(insertAt('https://x/', 8, 8, '{{id}}')).toEqual({ value: 'https://{{id}}x/', caret: 14 });
    expect(insertAt('abcdef', 1, 3, 'X')).toEqual({ value: 'aXdef', caret: 2 });
    expect(insertAt('abc', null, null, '{{x}}', 2)).toEqual({ value: 'abc{{x}}', caret: 5 });
  });

  it('knows whether a position is inside a JSON string', () => {
    const text = '{"a": "b\\"c", "d": 1}';
    expect(insideJsonString(text, text.indexOf('b'))).toBe(true);
    expect(insideJsonString(text, text.indexOf('c'))).toBe(true);
    expect(insideJsonString(text, text.indexOf('1'))).toBe(false);
  });
});

describe('credential calls', () => {
  it('lists credentials called from templates', () => {
    const graph = doc({ a: { url: "https://x.example/{{ getCredential('hook') }}", headers: { Authorization: 'Bearer {{getCredential("api")}}' } } });
    expect(credentialCalls(graph, catalogue)).toEqual(['hook', 'api']);
  });
});

describe('credential fields in either shape', () => {
  it('reads {credentialName} and a plain name', () => {
    expect(credentialNameOf({ credentialName: 'a' })).toBe('a');
    expect(credentialNameOf('b')).toBe('b');
    expect(credentialNameOf(undefined)).toBe('');
    expect(credentialNameOf({})).toBe('');
  });

  it('finds an llm step’s and an mcp_tool step’s credentialName beside an HTTP step’s auth', () => {
    const graph = doc({ a: { url: 'https://x.example', auth: { credentialName: 'httpKey' } } });
    graph.nodes.push(
      { id: 'ask', type: 'llm', position: { x: 0, y: 0 }, data: { label: 'Ask', config: { model: 'm', prompt: 'p', credentialName: 'openai' } } },
      { id: 'tool', type: 'mcp_tool', position: { x: 0, y: 0 }, data: { label: 'Tool', config: { serverUrl: 'https://m.example/mcp', tool: 't', credentialName: 'mcpToken' } } },
    );
    expect(credentialRefs(graph, catalogue)).toEqual([
      { name: 'httpKey', nodeId: 'a', field: 'auth' },
      { name: 'openai', nodeId: 'ask', field: 'credentialName' },
      { name: 'mcpToken', nodeId: 'tool', field: 'credentialName' },
    ]);
  });
});

describe('the trigger payload and expression fields', () => {
  const hook = (sample?: unknown): GraphDocument => ({
    nodes: [
      { id: 'webhook', type: 'webhook', position: { x: 0, y: 0 }, data: { label: 'Webhook', config: { responseMode: 'onReceived' }, ...(sample === undefined ? {} : { samplePayload: sample }) } },
      { id: 'if_1', type: 'if', position: { x: 280, y: 0 }, data: { label: 'If', config: { condition: '' } } },
    ],
    edges: [{ id: 'e', source: 'webhook', target: 'if_1' }],
    meta: { name: 'Hook', version: 1 },
  });
  const payload = { body: { amount: 20, customer: { email: 'a@b.c' }, items: [{ sku: 'x' }] }, headers: {}, method: 'POST' };

  it('lists the sample payload’s fields, nested, with their types, before anything else', () => {
    const offered = suggestions(hook(payload), catalogue, 'if_1', { credentialNames: [], inputs: [] });
    expect(offered.map((s) => s.group)).not.toContain('Run inputs');
    const trigger = offered.filter((s) => s.group === 'Trigger payload');
    expect(trigger.map((s) => [s.expression, s.type])).toEqual([
      ['payload.body', 'object'],
      ['payload.body.amount', 'number'],
      ['payload.body.customer', 'object'],
      ['payload.body.customer.email', 'text'],
      ['payload.body.items', 'list'],
      ['payload.body.items[0]', 'object'],
      ['payload.body.items[0].sku', 'text'],
      ['payload.headers', 'object'],
      ['payload.method', 'text'],
    ]);
    expect(trigger[1]?.text).toBe('{{payload.body.amount}}');
    expect(trigger[1]?.detail).toBe('20 in the sample payload');
  });

  it('without a sample, offers the last run’s payload, else the fields the trigger type declares', () => {
    const run = suggestions(hook(), catalogue, 'if_1', { credentialNames: [], inputs: [], outputs: { webhook: { body: { id: 1 } } } });
    expect(run.filter((s) => s.group === 'Trigger payload').map((s) => s.expression)).toEqual(['payload.body', 'payload.body.id']);
    const declared = suggestions(hook(), catalogue, 'if_1', { credentialNames: [], inputs: [] }).filter((s) => s.group === 'Trigger payload');
    expect(declared.map((s) => s.expression)).toContain('payload.body');
  });

  it('never takes payload names as run inputs', () => {
    expect(['payload', 'payload.body.amount', 'payload[0]', 'databaseId', 'inputs.payload'].map(isRunInput)).toEqual([false, false, false, true, true]);
    const offered = suggestions(hook(payload), catalogue, 'if_1', { credentialNames: [], inputs: ['payload.body.amount', 'region'] });
    expect(offered.filter((s) => s.group === 'Run inputs').map((s) => s.expression)).toEqual(['region']);
  });

  it('an expression field takes the bare path; a text field takes {{ }}, bare again inside an open {{ }}', () => {
    const amount = suggestions(hook(payload), catalogue, 'if_1', { credentialNames: [], inputs: [] }).find((s) => s.expression === 'payload.body.amount')!;
    expect(insertVariable('', null, null, amount, 'expression')).toEqual({ value: 'payload.body.amount', selection: { start: 19, end: 19 } });
    expect(insertVariable(' > 100', 0, 0, amount, 'expression').value).toBe('payload.body.amount > 100');
    expect(insertVariable('Total: ', null, null, amount, 'text').value).toBe('Total: {{payload.body.amount}}');
    expect(insertVariable('{{  * 2 }}', 3, 3, amount, 'text').value).toBe('{{ payload.body.amount * 2 }}');
    const field = suggestions(hook(payload), catalogue, 'if_1', { credentialNames: [], inputs: [] });
    expect(field.length).toBeGreaterThan(0);
  });
});

describe('inserting into a JSON body keeps it JSON', () => {
  const doc2 = doc({ http_1: { url: 'https://a.example' }, http_2: { url: 'https://b.example' } });
  const offered = suggestions(doc2, catalogue, 'http_2', { credentialNames: ['k'], inputs: [], outputs: { http_1: { body: { id: 7 } } } });
  const id = offered.find((s) => s.expression === 'steps.http_1.output.body.id')!;
  const partial = offered.find((s) => s.expression === 'steps.http_1.output.')!;
  const valid = (text: string) => JSON.parse(text) as unknown;

  it('into the default {}: a property named after the variable, its name selected to rename', () => {
    for (const start of [null, 0, 1, 2]) {
      const out = insertIntoJson('{}', start, start, id);
      expect(valid(out.value)).toEqual({ id: '{{steps.http_1.output.body.id}}' });
      expect(out.value.slice(out.selection.start, out.selection.end)).toBe('id');
    }
    const whole = insertIntoJson('{}', 1, 1, partial);
    expect(valid(whole.value)).toEqual({ field: '{{steps.http_1.output.}}' });
  });

  it('where a value belongs, quoted, with the caret inside the braces for a field to type', () => {
    const out = insertIntoJson('{"team": }', 9, 9, partial);
    expect(out.value).toBe('{"team": "{{steps.http_1.output.}}"}');
    expect(out.selection.start).toBe('{"team": "{{steps.http_1.output.'.length);
  });

  it('between properties, after the last one or past the end: a new property, never invalid JSON', () => {
    const text = '{\n  "a": 1,\n  "b": 2\n}';
    for (let at = 0; at <= text.length; at += 1) {
      if (insideJsonString(text, at)) continue; // inside a name or a string: inserted as typed
      const out = insertIntoJson(text, at, at, id);
      const parsed = valid(out.value) as Record<string, unknown>;
      expect(Object.values(parsed)).toContain('{{steps.http_1.output.body.id}}');
      expect(parsed.a).toBe(1);
    }
    const taken = insertIntoJson('{"id": 1}', null, null, id);
    expect(valid(taken.value)).toEqual({ id: 1, id2: '{{steps.http_1.output.body.id}}' });
    expect(taken.value.slice(taken.selection.start, taken.selection.end)).toBe('id2');
  });

  it('inside a string, as it is; text that was not JSON stays not JSON (the editor says so)', () => {
    expect(insertIntoJson('{"a": "x "}', 9, 9, id).value).toBe('{"a": "x {{steps.http_1.output.body.id}}"}');
    expect(() => valid(insertIntoJson('{"a": ', null, null, id).value)).toThrow();
  });
});
