import { describe, expect, it } from 'vitest';
import { fieldsOf, fieldsProblem, promptedInputs, schemaOf, typedValue } from './inputFields';

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

  it('Run asks for the declared inputs, required first, then what templates read besides', () => {
    const schema = { type: 'object', required: ['city'], properties: { days: { type: 'integer' }, city: { type: 'string' } } };
    expect(promptedInputs(schema, ['city', 'payload.note'])).toEqual(['city', 'days', 'payload.note']);
    expect(promptedInputs(undefined, ['a'])).toEqual(['a']);
  });

  it('sends a declared input as its type, and text that does not read as it as text', () => {
    expect(typedValue('3', 'integer')).toBe(3);
    expect(typedValue('three', 'integer')).toBe('three');
    expect(typedValue('false', 'boolean')).toBe(false);
    expect(typedValue('[1, 2]', 'array')).toEqual([1, 2]);
    expect(typedValue('{oops', 'object')).toBe('{oops');
    expect(typedValue('007', 'string')).toBe('007');
  });
});
