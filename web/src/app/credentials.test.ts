import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { fakeApi, testCatalogue } from '../api/fake';
import type { Credential } from '../api/types';
import { createBuilderStore } from '../store/store';
import {
  CREDENTIAL_NAME,
  CredentialInUse,
  checkNewCredential,
  createCredentialsService,
  formErrorsOf,
  suggestedHosts,
  templateHostsOf,
  usersOf,
  withTypedHost,
} from './credentials';

const SECRET = 'sk_live_canary_0123456789abcdef';

const listed = (name: string, extra: Partial<Credential> = {}): Credential => ({
  name,
  masked: 'sk_l…cdef',
  description: null,
  allowedHosts: [],
  unreadable: false,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

describe('credentials service', () => {
  it('never holds a secret value in the store, even if a response echoes it', async () => {
    const echo = vi.fn(async (c: { name: string; value: string }) => ({ ...listed(c.name), value: c.value }) as Credential);
    const api = fakeApi({
      createCredential: echo,
      replaceCredential: vi.fn(async (name: string, value: string) => ({ ...listed(name), value, secret: value }) as Credential),
      listCredentials: vi.fn(async () => [{ ...listed('b'), value: SECRET } as Credential]),
    });
    const store = createBuilderStore({ catalogue: testCatalogue() });
    const service = createCredentialsService(store, api);

    await service.add({ name: 'a', value: SECRET, description: '  Stripe live key ' });
    expect(echo).toHaveBeenCalledWith({ name: 'a', value: SECRET, description: 'Stripe live key' });
    await service.replace('a', `${SECRET}-2`);
    await service.refresh();
    expect(JSON.stringify(store.getState())).not.toContain(SECRET);
    expect(store.getState().credentials.items.map((c) => c.name)).toEqual(['b']);

    await service.add({ name: 'c', value: SECRET });
    expect(store.getState().credentials.items.map((c) => Object.keys(c).sort())).toEqual([
      ['allowedHosts', 'createdAt', 'description', 'masked', 'name', 'unreadable', 'updatedAt'],
      ['allowedHosts', 'createdAt', 'description', 'masked', 'name', 'unreadable', 'updatedAt'],
    ]);
    expect(JSON.stringify(store.getState())).not.toContain(SECRET);
  });

  it('keeps the list sorted by name and follows replace and delete', async () => {
    const api = fakeApi({ listCredentials: vi.fn(async () => [listed('zeta'), listed('alpha', { description: 'kept' })]) });
    const store = createBuilderStore({ catalogue: testCatalogue() });
    const service = createCredentialsService(store, api);
    await service.refresh();
    expect(store.getState().credentials).toMatchObject({ status: 'ready', items: [{ name: 'alpha' }, { name: 'zeta' }] });

    await service.add({ name: 'mid', value: 'v' });
    expect(store.getState().credentials.items.map((c) => c.name)).toEqual(['alpha', 'mid', 'zeta']);

    await service.replace('alpha', 'new');
    expect(api.replaceCredential).toHaveBeenCalledWith('alpha', 'new', 'kept', undefined);
    expect(store.getState().credentials.items.find((c) => c.name === 'alpha')?.updatedAt).toBe('2026-01-02T00:00:00Z');

    await service.remove('zeta');
    expect(store.getState().credentials.items.map((c) => c.name)).toEqual(['alpha', 'mid']);
  });

  it('treats deleting a credential that is already gone as done, and reports other failures', async () => {
    const api = fakeApi({
      listCredentials: vi.fn(async () => [listed('gone'), listed('stuck')]),
      deleteCredential: vi.fn(async (name: string) => {
        throw name === 'gone' ? new ApiError(404, 'not_found', 'no such credential') : new ApiError(503, 'unavailable', 'down');
      }),
    });
    const store = createBuilderStore({ catalogue: testCatalogue() });
    const service = createCredentialsService(store, api);
    await service.refresh();
    await service.remove('gone');
    await expect(service.remove('stuck')).rejects.toThrow('down');
    expect(store.getState().credentials.items.map((c) => c.name)).toEqual(['stuck']);
  });

  it('keeps the last list and says why when loading fails', async () => {
    const store = createBuilderStore({ catalogue: testCatalogue() });
    const service = createCredentialsService(store, fakeApi({ listCredentials: vi.fn(async () => Promise.reject(new ApiError(0, 'network', 'Cannot reach the AutomateOS server'))) }));
    await service.refresh();
    expect(store.getState().credentials).toMatchObject({ status: 'error', items: [], message: 'Cannot reach the AutomateOS server' });
  });
});

describe('credential form errors', () => {
  it('maps 422 fields and 409 onto the form’s fields', () => {
    const invalid = new ApiError(422, 'validation_error', 'invalid', [
      { field: 'name', reason: 'must match [A-Za-z0-9_.-]{1,64}', nodeId: null, edgeId: null },
      { field: 'body.value', reason: 'must not be empty', nodeId: null, edgeId: null },
    ]);
    expect(formErrorsOf(invalid)).toEqual({ name: 'must match [A-Za-z0-9_.-]{1,64}', value: 'must not be empty' });
    const conflict = new ApiError(409, 'conflict', 'exists', [{ field: 'name', reason: 'already exists', nodeId: null, edgeId: null }]);
    expect(formErrorsOf(conflict, 'slack').name).toContain('“slack” already exists. Use Replace');
    expect(formErrorsOf(new ApiError(500, 'internal_error', 'boom'))).toEqual({ form: 'boom' });
  });

  it('checks the name and value before sending', () => {
    expect(checkNewCredential({ name: '', value: '' }, [])).toEqual({ name: 'Give the credential a name', value: 'Enter the secret value' });
    expect(checkNewCredential({ name: 'has space', value: 'v' }, []).name).toMatch(/no spaces/);
    expect(checkNewCredential({ name: 'x'.repeat(65), value: 'v' }, []).name).toBeDefined();
    expect(checkNewCredential({ name: 'dup', value: 'v' }, [listed('dup')]).name).toMatch(/already exists/);
    expect(checkNewCredential({ name: 'notion.Token_1-a', value: 'v' }, [])).toEqual({});
  });
});

describe('credential names', () => {
  it('accepts exactly what the store can key: parts joined by single dots', () => {
    for (const good of ['stripe', 'notion.prod', 'a-b_c.d', 'x'.repeat(64)]) expect(CREDENTIAL_NAME.test(good)).toBe(true);
    for (const bad of ['.', '.x', 'x.', 'a..b', 'has space', 'x'.repeat(65), '']) expect(CREDENTIAL_NAME.test(bad)).toBe(false);
  });
});

describe('deleting a credential that saved workflows use', () => {
  const inUse = () =>
    new ApiError(409, 'in_use', 'credential “stripe” is used by 2 saved workflows', [{ field: 'name', reason: 'in use', nodeId: null, edgeId: null }], {
      code: 'in_use',
      usedBy: [
        { id: 'wf1', name: 'Stripe → Discord', active: true },
        { id: 'wf2', name: '', active: false },
        { name: 'no id, left out' },
      ],
    });

  it('says which workflows use it, keeps it listed, and deletes it when forced', async () => {
    const deleteCredential = vi.fn<(name: string, force?: boolean) => Promise<void>>(async (_name, force) => {
      if (!force) throw inUse();
    });
    const api = fakeApi({ listCredentials: vi.fn(async () => [listed('stripe')]), deleteCredential });
    const store = createBuilderStore({ catalogue: testCatalogue() });
    const service = createCredentialsService(store, api);
    await service.refresh();

    const refused = await service.remove('stripe').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CredentialInUse);
    expect((refused as CredentialInUse).usedBy).toEqual([
      { id: 'wf1', name: 'Stripe → Discord', active: true },
      { id: 'wf2', name: 'wf2', active: false },
    ]);
    expect(store.getState().credentials.items.map((c) => c.name)).toEqual(['stripe']);

    await service.remove('stripe', { force: true });
    expect(deleteCredential).toHaveBeenLastCalledWith('stripe', true);
    expect(store.getState().credentials.items).toEqual([]);
  });

  it('reads only a 409 in_use as "in use"', () => {
    expect(usersOf(new ApiError(409, 'conflict', 'exists'))).toBeNull();
    expect(usersOf(new ApiError(409, 'in_use', 'in use'))).toEqual([]);
    expect(usersOf(new Error('x'))).toBeNull();
  });
});

describe('allowed hosts', () => {
  it('suggests a URL value\'s own host, else the template\'s fence for that name', () => {
    expect(suggestedHosts('https://hooks.slack.com/services/T0/B0/x', ['hooks.slack.com'])).toEqual(['hooks.slack.com']);
    expect(suggestedHosts(' http://127.0.0.1:9999/discord ', ['discord.com'])).toEqual(['127.0.0.1:9999']);
    expect(suggestedHosts('https://API.example.com:443/x', [])).toEqual(['api.example.com']);
    expect(suggestedHosts('secret_notion_123', ['api.notion.com'])).toEqual(['api.notion.com']);
    expect(suggestedHosts('', [])).toEqual([]);
  });

  it('reads a template\'s suggestion defensively', () => {
    const meta = { credentials: { notionToken: { allowedHosts: ['api.notion.com', 7] }, odd: 'x' } };
    expect(templateHostsOf(meta, 'notionToken')).toEqual(['api.notion.com']);
    expect(templateHostsOf(meta, 'odd')).toEqual([]);
    expect(templateHostsOf({}, 'notionToken')).toEqual([]);
    expect(templateHostsOf({ credentials: null }, 'x')).toEqual([]);
  });

  it('keeps a host typed but not yet added, once', () => {
    expect(withTypedHost(['a.com'], ' b.com ')).toEqual(['a.com', 'b.com']);
    expect(withTypedHost(['a.com'], 'a.com')).toEqual(['a.com']);
    expect(withTypedHost([], '  ')).toEqual([]);
  });

  it('sends the list on add and replace, and keeps the fence when replace is not given one', async () => {
    const api = fakeApi();
    const service = createCredentialsService(createBuilderStore({ catalogue: testCatalogue() }), api);
    const created = await service.add({ name: 'n', value: SECRET, allowedHosts: ['api.notion.com'] });
    expect(api.createCredential).toHaveBeenCalledWith({ name: 'n', value: SECRET, allowedHosts: ['api.notion.com'] });
    expect(created.allowedHosts).toEqual(['api.notion.com']);
    await service.add({ name: 'm', value: SECRET, allowedHosts: [] });
    expect(api.createCredential).toHaveBeenLastCalledWith({ name: 'm', value: SECRET });
    await service.replace('n', SECRET, []);
    expect(api.replaceCredential).toHaveBeenLastCalledWith('n', SECRET, null, []);
    await service.replace('n', SECRET);
    expect(api.replaceCredential).toHaveBeenLastCalledWith('n', SECRET, null, undefined);
  });

  it('puts the server\'s complaint about an entry on the list', () => {
    const error = new ApiError(422, 'validation_error', 'invalid', [
      { field: 'allowedHosts[1]', reason: "'*.com' would match every name under a top-level domain", nodeId: null, edgeId: null },
    ]);
    expect(formErrorsOf(error)).toEqual({ allowedHosts: "'*.com' would match every name under a top-level domain" });
  });
});
