// Stored credentials: the I/O behind the Credentials panel and the credential picker. Secret values pass
// through here once, on their way to the server; the store only ever holds what the server lists (names and
// masked values), and anything else a response carries is dropped.

import { ApiError, type Api } from '../api/client';
import type { Credential, NewCredential, WorkflowRef } from '../api/types';
import { CREDENTIAL_NAME_RULE } from '../api/schema.gen';
import type { BuilderStore } from '../store/store';

/** Checked before sending; the server checks again (the rule comes from schemas/credentials.py). */
export const CREDENTIAL_NAME = {
  test: (name: string): boolean =>
    name.length <= CREDENTIAL_NAME_RULE.maxLength && new RegExp(CREDENTIAL_NAME_RULE.pattern).test(name),
};

export interface CredentialsService {
  refresh(): Promise<void>;
  add(credential: NewCredential): Promise<Credential>;
  /** `allowedHosts` undefined keeps the credential's fence. */
  replace(name: string, value: string, allowedHosts?: string[]): Promise<Credential>;
  /** Deletes it, or throws CredentialInUse when saved workflows use it (unless `force`). */
  remove(name: string, options?: { force?: boolean }): Promise<void>;
}

/** A saved workflow that refers to a credential, as a 409 `in_use` lists it (`error.usedBy`). */
export type CredentialUser = WorkflowRef;

/** The server refused a delete because saved workflows use the credential; `usedBy` says which. */
export class CredentialInUse extends Error {
  constructor(
    readonly credential: string,
    readonly usedBy: CredentialUser[],
    message: string,
  ) {
    super(message);
    this.name = 'CredentialInUse';
  }
}

/** The workflows a 409 `in_use` names, read defensively: anything not shaped like one is left out. */
export function usersOf(error: unknown): CredentialUser[] | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.code !== 'in_use') return null;
  const raw = error.detail.usedBy;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((u: unknown) => {
    if (typeof u !== 'object' || u === null) return [];
    const { id, name, active } = u as Record<string, unknown>;
    if (typeof id !== 'string') return [];
    return [{ id, name: typeof name === 'string' && name !== '' ? name : id, active: active === true }];
  });
}

/** The listed fields of a credential, whatever else the server sent. */
export function summaryOf(raw: Credential): Credential {
  return {
    name: String(raw.name),
    masked: String(raw.masked ?? '••••••••'),
    description: typeof raw.description === 'string' && raw.description !== '' ? raw.description : null,
    allowedHosts: Array.isArray(raw.allowedHosts) ? raw.allowedHosts.filter((h): h is string => typeof h === 'string') : [],
    // Sent only when true: a credential whose stored record is damaged (its description says what to do).
    unreadable: raw.unreadable === true,
    createdAt: String(raw.createdAt ?? ''),
    updatedAt: String(raw.updatedAt ?? raw.createdAt ?? ''),
  };
}

const byName = (a: Credential, b: Credential) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function createCredentialsService(store: BuilderStore, api: Api): CredentialsService {
  const items = () => store.getState().credentials.items;
  const setItems = (next: Credential[]) =>
    store.getState().setCredentials({ status: 'ready', items: [...next].sort(byName) });
  const upsert = (credential: Credential) => setItems([...items().filter((c) => c.name !== credential.name), credential]);
  let loading: Promise<void> | null = null;

  const load = async () => {
    const current = store.getState().credentials;
    if (current.status !== 'ready') store.getState().setCredentials({ ...current, status: 'loading' });
    try {
      setItems((await api.listCredentials()).map(summaryOf));
    } catch (error) {
      store.getState().setCredentials({
        status: 'error',
        items: current.items,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };

  return {
    refresh() {
      loading ??= load().finally(() => {
        loading = null;
      });
      return loading;
    },

    async add({ name, value, description, allowedHosts }) {
      const trimmed = description?.trim();
      const created = summaryOf(
        await api.createCredential({
          name,
          value,
          ...(trimmed ? { description: trimmed } : {}),
          ...(allowedHosts && allowedHosts.length > 0 ? { allowedHosts } : {}),
        }),
      );
      upsert(created);
      return created;
    },

    async replace(name, value, allowedHosts) {
      const description = items().find((c) => c.name === name)?.description;
      const replaced = summaryOf(await api.replaceCredential(name, value, description, allowedHosts));
      upsert(replaced);
      return replaced;
    },

    async remove(name, options = {}) {
      try {
        await api.deleteCredential(name, options.force === true);
      } catch (error) {
        const users = usersOf(error);
        if (users) throw new CredentialInUse(name, users, (error as ApiError).message);
        // Already gone (deleted elsewhere): what the user wanted.
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      setItems(items().filter((c) => c.name !== name));
    },
  };
}

export type CredentialField = 'name' | 'value' | 'description' | 'allowedHosts';
export type FormErrors = Partial<Record<CredentialField | 'form', string>>;

/** A failed save as messages by form field (422 `fields`, 409 on the name), or one for the whole form. */
export function formErrorsOf(error: unknown, name?: string): FormErrors {
  if (!(error instanceof ApiError)) return { form: error instanceof Error ? error.message : String(error) };
  const errors: FormErrors = {};
  for (const f of error.fields) {
    // `allowedHosts[1]`: the server's reason quotes the entry, so the list's one message can name it.
    const field = f.field.split('.').at(-1)?.replace(/\[\d+\]$/, '');
    if (field === 'name' || field === 'value' || field === 'description' || field === 'allowedHosts') errors[field] ??= f.reason;
  }
  if (error.status === 409 && name)
    errors.name = `A credential named “${name}” already exists. Use Replace to change its value.`;
  if (Object.keys(errors).length === 0) errors.form = error.message;
  return errors;
}

/** Checks before sending, so the common mistakes get an instant answer. */
export function checkNewCredential(credential: NewCredential, existing: readonly Credential[]): FormErrors {
  const errors: FormErrors = {};
  if (credential.name === '') errors.name = 'Give the credential a name';
  else if (!CREDENTIAL_NAME.test(credential.name))
    errors.name = 'Use up to 64 letters, digits, “_” and “-”, in parts joined by single dots (no spaces)';
  else if (existing.some((c) => c.name === credential.name))
    errors.name = `A credential named “${credential.name}” already exists. Use Replace to change its value.`;
  if (credential.value === '') errors.value = 'Enter the secret value';
  return errors;
}

/**
 * The fence to suggest for a new credential. A URL (a webhook) goes only to its own host, with its port unless the
 * scheme's default, as `up` fences one (schemas/host_patterns.py `fence_of_url`); anything else gets what the open
 * workflow's template suggests for that name (`meta.credentials`), or nothing: sent anywhere.
 */
export function suggestedHosts(value: string, templateHosts: readonly string[]): string[] {
  const trimmed = value.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      const { host } = new URL(trimmed);
      if (host) return [host];
    } catch {
      // Not a URL after all: fall back to the template's suggestion.
    }
  }
  return [...templateHosts];
}

/** What the workflow's `meta.credentials` suggests as `name`'s fence, read defensively (it comes from a file). */
export function templateHostsOf(meta: Record<string, unknown>, name: string): string[] {
  const credentials = meta.credentials;
  if (typeof credentials !== 'object' || credentials === null) return [];
  const suggestion = (credentials as Record<string, unknown>)[name];
  if (typeof suggestion !== 'object' || suggestion === null) return [];
  const hosts = (suggestion as Record<string, unknown>).allowedHosts;
  return Array.isArray(hosts) ? hosts.filter((h): h is string => typeof h === 'string') : [];
}

/** The list with a host still typed in its box, so Save does not drop what was typed but not yet added. */
export function withTypedHost(hosts: readonly string[], typed: string): string[] {
  const entry = typed.trim();
  return entry === '' || hosts.includes(entry) ? [...hosts] : [...hosts, entry];
}
