import { describe, expect, it } from 'vitest';
import { generate } from '../../scripts/gen-api-types.mjs';
import generated from './schema.gen.ts?raw';

describe('generated API types', () => {
  it('match the JSON Schemas the backend publishes (run `npm run gen:types` if not)', () => {
    const files = import.meta.glob<unknown>('../../../schemas/json/*.json', { eager: true, import: 'default' });
    const schemas = Object.fromEntries(
      Object.entries(files).map(([path, schema]) => [path.replace(/^.*\/(\w+)\.json$/, '$1'), schema]),
    );
    expect(generate(schemas)).toBe(generated);
  });
});
