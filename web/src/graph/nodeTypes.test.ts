import { describe, expect, it } from 'vitest';
import { NODE_TYPES, testCatalogue } from '../api/fake';
import { choiceGroups, createCatalogue, defaultConfig, emptyDocument, fieldFor, hasBranches, humanise, outputHandles, summaryOf } from './nodeTypes';
import { settingFields, valueAt, withValueAt } from './settings';

const catalogue = testCatalogue();
const type = (name: string) => {
  const info = catalogue.get(name);
  if (!info) throw new Error(`no ${name} in the catalogue`);
  return info;
};

describe('output handles', () => {
  it('are the declared outputs of a plain or an if node', () => {
    expect(outputHandles(type('http'), {}).map((h) => h.id)).toEqual(['out']);
    expect(hasBranches(type('http'))).toBe(false);
    expect(outputHandles(type('if'), { condition: 'x' }).map((h) => [h.id, h.label])).toEqual([
      ['true', 'true'],
      ['false', 'false'],
    ]);
    expect(hasBranches(type('if'))).toBe(true);
  });

  it('follow a switch’s cases, one each in order, then default', () => {
    const ids = (cases: unknown) => outputHandles(type('switch'), { cases }).map((h) => h.id);
    expect(ids(['eu', 'us'])).toEqual(['eu', 'us', 'default']);
    expect(ids(['us', 'eu', 'asia'])).toEqual(['us', 'eu', 'asia', 'default']);
    expect(ids([])).toEqual(['default']);
    expect(ids(undefined)).toEqual(['default']);
    // Empty and repeated cases are config errors the server names; they get no handle of their own.
    expect(ids(['eu', '', 'eu', 'default'])).toEqual(['eu', 'default']);
    expect(hasBranches(type('switch'))).toBe(true);
  });
});

describe('catalogue entries', () => {
  it('are found by name, and by an older name the server lists as an alias', () => {
    expect(catalogue.get('http_request_node')?.type).toBe('http');
    const http = NODE_TYPES.nodeTypes.find((t) => t.type === 'http')!;
    const withoutAlias = createCatalogue({ ...NODE_TYPES, nodeTypes: [{ ...http, aliases: [] }] });
    expect(withoutAlias.get('http_request_node')).toBeUndefined();
  });

  it('give new nodes their defaults, a copy each time', () => {
    const a = defaultConfig(type('switch'));
    expect(a).toEqual({ value: '', cases: ['a', 'b'] });
    (a.cases as string[]).push('c');
    expect(defaultConfig(type('switch')).cases).toEqual(['a', 'b']);
  });

  it('put a field’s aliases on the field that shows them', () => {
    expect(fieldFor(type('http'), 'body')).toBe('json_body');
    expect(fieldFor(type('http'), 'url')).toBe('url');
    expect(fieldFor(type('http'), 'other')).toBe('other');
  });

  it('write the canvas summary from the fields it names', () => {
    expect(summaryOf(type('http'), { method: 'POST', url: 'https://hooks.example/x' })).toBe('POST hooks.example/x');
    expect(summaryOf(type('delay'), { seconds: 60 })).toBe('60 s');
    expect(summaryOf(type('set'), { values: { id: '1', name: 'x' } })).toBe('id, name');
    expect(summaryOf(type('if'), { condition: '' })).toBe('Not set up yet');
    expect(summaryOf(type('start'), {})).toBe('Manual trigger');
    // Unset fields (an older save) read as their declared defaults, never as a stray ", ".
    expect(summaryOf(type('webhook'), {})).toBe('POST, At once: 202 with the run id');
    expect(summaryOf(type('webhook'), { methods: ['GET', 'POST'], responseMode: 'lastNode' })).toBe("GET, POST, When done: the last step's output");
  });

  it('start a new workflow with the trigger alone', () => {
    expect(emptyDocument(catalogue).nodes).toEqual([{ id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } }]);
  });
});

describe('settings form', () => {
  it('is read from the settings schema, grouped, with readable labels', () => {
    const fields = settingFields(catalogue.settingsSchema);
    expect(fields.map((f) => [f.key, f.label, f.group, f.kind])).toEqual(
      expect.arrayContaining([
        ['settings.retry.maxAttempts', 'Attempts', 'Retry', 'integer'],
        ['settings.retry.initialIntervalMs', 'First wait (ms)', 'Retry', 'integer'],
        ['settings.retry.backoffCoefficient', 'Backoff factor', 'Retry', 'number'],
        ['settings.onError', 'When it fails', null, 'enum'],
      ]),
    );
    expect(fields.find((f) => f.key === 'settings.onError')?.options).toEqual(['fail', 'continue']);
    expect(humanise('maxIntervalMs')).toBe('Max interval (ms)');
  });

  it('sets and clears values at a path, leaving no empty objects', () => {
    const set = withValueAt(undefined, ['retry', 'maxAttempts'], 3);
    expect(set).toEqual({ retry: { maxAttempts: 3 } });
    expect(valueAt(set, ['retry', 'maxAttempts'])).toBe(3);
    expect(withValueAt(set, ['retry', 'maxAttempts'], undefined)).toBeUndefined();
    expect(withValueAt({ onError: 'continue', retry: { maxAttempts: 2 } }, ['retry', 'maxAttempts'], undefined)).toEqual({ onError: 'continue' });
  });
});

describe('schedule: one of cron and interval', () => {
  const catalogue = testCatalogue();
  const schedule = catalogue.get('schedule')!;
  const webhook = catalogue.get('webhook')!;

  it('reads the choice from the config schema’s oneOf', () => {
    expect(choiceGroups(schedule)).toEqual([['cron', 'intervalSeconds']]);
    expect(choiceGroups(catalogue.get('http')!)).toEqual([]);
  });

  it('summarises whichever is set, never both run together, and selects by their labels', () => {
    expect(summaryOf(schedule, { cron: '0 9 * * 1-5' })).toBe('0 9 * * 1-5');
    expect(summaryOf(schedule, { intervalSeconds: 5 })).toBe('every 5 s');
    expect(summaryOf(schedule, {})).toBe('Not set up yet');
    expect(summaryOf(webhook, { methods: ['POST'], responseMode: 'onReceived' })).not.toContain('onReceived');
  });
});
