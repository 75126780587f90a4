// The precompiled validators (validators.gen.ts) cover every schema the backend publishes, whatever the key order
// the server sends it in. (That the file is current is checked by tests/schemas/test_generated_files.py.)
import { describe, expect, it } from 'vitest';
import published from '../../../schemas/json/node-types.json';
import { precompiledValidator } from './validators.gen';

type Validate = ((value: unknown) => boolean) & { errors?: { keyword: string }[] | null };

describe('precompiled validators', () => {
  it('exist for every node type and the settings, whatever the key order', () => {
    for (const type of published.nodeTypes) {
      const reordered = Object.fromEntries(Object.entries(type.configSchema).reverse());
      expect(precompiledValidator(reordered), type.type).toBeTypeOf('function');
    }
    expect(precompiledValidator(published.settingsSchema)).toBeTypeOf('function');
    expect(precompiledValidator({ type: 'object', title: 'NotPublished' })).toBeUndefined();
  });

  it('check as Ajv does at run time', () => {
    const http = published.nodeTypes.find((t) => t.type === 'http')!;
    const validate = precompiledValidator(http.configSchema) as Validate;
    expect(validate({ method: 'GET', url: 'https://example.com' })).toBe(true);
    expect(validate({ method: 'FETCH' })).toBe(false);
    expect((validate.errors ?? []).map((e) => e.keyword)).toContain('required');
  });
});
