import { describe, expect, it } from 'vitest';
import { testCatalogue } from '../api/fake';
import type { GraphDocument } from './document';
import { validateGraph } from './validate';
import {
  buildInputs,
  credentialCalls,
  insertAt,
  insideJsonString,
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
    const texts = suggestions(notion, catalogue, 'create-page', { credentialNames: [], inputs: ['databaseId', 'payload.title'] }).map((s) => s.text);
    expect(texts).toEqual(['{{databaseId}}', '{{payload.title}}']);
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
