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
  replace(name: string, value: string): Promise<Credential>;
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

    async add({ name, value, description }) {
      const trimmed = description?.trim();
      const created = summaryOf(await api.createCredential(trimmed ? { name, value, description: trimmed } : { name, value }));
      upsert(created);
      return created;
    },

    async replace(name, value) {
      const description = items().find((c) => c.name === name)?.description;
      const replaced = summaryOf(await api.replaceCredential(name, value, description));
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

export type CredentialField = 'name' | 'value' | 'description';
export type FormErrors = Partial<Record<CredentialField | 'form', string>>;

/** A failed save as messages by form field (422 `fields`, 409 on the name), or one for the whole form. */
export function formErrorsOf(error: unknown, name?: string): FormErrors {
  if (!(error instanceof ApiError)) return { form: error instanceof Error ? error.message : String(error) };
  const errors: FormErrors = {};
  for (const f of error.fields) {
    const field = f.field.split('.').at(-1);
    if (field === 'name' || field === 'value' || field === 'description') errors[field] ??= f.reason;
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
