import { describe, expect, it } from 'vitest';
import { fieldsOf, fieldsProblem, schemaOf } from './inputFields';

describe('input fields', () => {
  it('round-trips a schema, keeping what the form does not edit', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      required: ['city'],
      properties: { city: { type: 'string', description: 'where' }, days: { type: 'integer', minimum: 1 } },
    };
    const fields = fieldsOf(schema);
    expect(fields.map((f) => [f.name, f.type, f.required, f.description])).toEqual([
      ['city', 'string', true, 'where'],
      ['days', 'integer', false, ''],
    ]);
    expect(schemaOf(fields, schema)).toEqual(schema);
  });

  it('writes required, drops unnamed rows, and is undefined with no fields', () => {
    expect(schemaOf([{ name: 'q', type: 'string', required: true, description: ' ', rest: {} }, { name: '', type: 'number', required: false, description: '', rest: {} }])).toEqual({
      type: 'object',
      properties: { q: { type: 'string' } },
      required: ['q'],
    });
    expect(schemaOf([])).toBeUndefined();
  });

  it('names a repeated or unusable name', () => {
    const field = (name: string) => ({ name, type: 'string' as const, required: false, description: '', rest: {} });
    expect(fieldsProblem([field('a'), field('a')])).toMatch(/appears twice/);
    expect(fieldsProblem([field('my city')])).toMatch(/letters, digits and _/);
    expect(fieldsProblem([field('city')])).toBeNull();
  });
});
