// Drawer of stored credentials: list (names, masked values and where each may be sent), add, replace a value and
// its allowed hosts, delete.
// A typed secret lives in this component's state until it is sent, and is cleared as soon as it is saved.

import { useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode, type Ref } from 'react';
import {
  checkNewCredential,
  CredentialInUse,
  formErrorsOf,
  suggestedHosts,
  templateHostsOf,
  withTypedHost,
  type CredentialUser,
  type FormErrors,
} from '../app/credentials';
import { useFocusWhileOpen } from '../app/focus';
import { useClosesOnEscape, useServices, useWorkflows } from '../app/services';
import { ApiError } from '../api/client';
import type { Credential } from '../api/types';
import { credentialCalls } from '../graph/variables';
import { formatRelative } from '../run/format';
import { useBuilder, useCatalogue, useDocument } from '../store/hooks';
import { ConfirmDialog } from './ConfirmDialog';
import { Icon } from './icons';

export function CredentialsDrawer() {
  const { credentials } = useServices();
  const open = useBuilder((s) => s.credentialsOpen);
  const setOpen = useBuilder((s) => s.setCredentialsOpen);
  const list = useBuilder((s) => s.credentials);
  const toAdd = useBuilder((s) => s.credentialToAdd);
  const pushToast = useBuilder((s) => s.pushToast);
  const used = useUsedCredentials();
  const [adding, setAdding] = useState(false);
  // Asked first; then, if the server says saved workflows use it, asked again with their names.
  const [deleting, setDeleting] = useState<{ name: string; usedBy: CredentialUser[] | null } | null>(null);
  const openWorkflowId = useWorkflows((s) => s.binding?.workflowId ?? null);

  useEffect(() => {
    if (open) void credentials.refresh();
    else setAdding(false);
  }, [open, credentials]);
  useEffect(() => {
    if (open && toAdd !== null) setAdding(true);
  }, [open, toAdd]);

  useClosesOnEscape(open, () => setOpen(false));
  const drawer = useFocusWhileOpen<HTMLElement>(open);

  if (!open) return null;

  const remove = async (name: string, force: boolean) => {
    setDeleting(null);
    try {
      await credentials.remove(name, { force });
      pushToast('success', `Deleted credential “${name}”`);
    } catch (error) {
      if (error instanceof CredentialInUse) setDeleting({ name, usedBy: error.usedBy });
      else pushToast('error', `Could not delete “${name}”: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  return (
    <aside className="drawer credentials" aria-label="Credentials" data-testid="credentials-drawer" ref={drawer} tabIndex={-1}>
      <header className="drawer__header">
        <div className="credentials__title">
          <span className="credentials__badge" aria-hidden="true">
            <Icon name="key" size={15} />
          </span>
          <h2 className="panel-title">Credentials</h2>
        </div>
        <div className="drawer__actions">
          {!adding && (
            <button
              type="button"
              className="button button--primary button--small"
              onClick={() => setAdding(true)}
              data-testid="credential-add"
            >
              <Icon name="plus" size={14} /> Add credential
            </button>
          )}
          <button type="button" className="icon-button icon-button--quiet" aria-label="Close credentials" onClick={() => setOpen(false)}>
            <Icon name="close" />
          </button>
        </div>
      </header>
      <div className="credentials__body">
        <p className="credentials__intro">
          <Icon name="lock" size={14} />
          <span>
            Secrets are encrypted on the server and never shown again. Pick one as a step’s <strong>Credential</strong>, or
            use <code>{"{{getCredential('name')}}"}</code> in a URL, header or body.
          </span>
        </p>
        {adding && (
          <AddCredentialForm
            key={toAdd ?? ''}
            initialName={toAdd ?? ''}
            existing={list.items}
            onDone={() => {
              setAdding(false);
              if (toAdd !== null) setOpen(true); // Forget the suggested name.
            }}
          />
        )}
        {list.status === 'error' && (
          <div className="callout callout--error credentials__error" role="alert" data-testid="credentials-error">
            <span>Couldn’t load credentials: {list.message}</span>
            <button type="button" className="button button--ghost button--small" onClick={() => void credentials.refresh()}>
              Try again
            </button>
          </div>
        )}
        {list.status === 'loading' && list.items.length === 0 && <p className="drawer__empty">Loading credentials…</p>}
        {list.status === 'ready' && list.items.length === 0 && !adding && (
          <div className="credentials__empty" data-testid="credentials-empty">
            <span className="credentials__empty-icon" aria-hidden="true">
              <Icon name="key" size={20} />
            </span>
            <p className="credentials__empty-title">No credentials yet</p>
            <p className="muted small">Add an API key or token once; steps refer to it by name.</p>
          </div>
        )}
        {list.items.length > 0 && (
          <ul className="credential-list" data-testid="credential-list">
            {list.items.map((credential) => (
              <CredentialRow
                key={credential.name}
                credential={credential}
                inUse={used.has(credential.name)}
                onDelete={() => setDeleting({ name: credential.name, usedBy: null })}
              />
            ))}
          </ul>
        )}
      </div>
      {deleting !== null && deleting.usedBy === null && (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          message={
            used.has(deleting.name)
              ? 'This workflow uses it: its steps will fail until you add a credential with this name again.'
              : 'Steps that use it will fail until you add a credential with this name again.'
          }
          confirmLabel="Delete credential"
          testId="confirm-delete-credential"
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting.name, false)}
        />
      )}
      {deleting !== null && deleting.usedBy !== null && (
        <ConfirmDialog
          title={`“${deleting.name}” is in use`}
          message={inUseMessage(deleting.usedBy, used.has(deleting.name) && !deleting.usedBy.some((u) => u.id === openWorkflowId))}
          confirmLabel="Delete anyway"
          testId="confirm-credential-in-use"
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting.name, true)}
        >
          <ul className="credential-users" aria-label="Saved workflows that use it" data-testid="credential-users">
            {deleting.usedBy.map((user) => (
              <li key={user.id} data-testid={`credential-user-${user.id}`}>
                <span className="credential-users__name">{user.name}</span>
                {user.id === openWorkflowId && <span className="chip">open here</span>}
                {user.active && <span className="chip chip--warn" title="Its trigger fires: the next run fails">live</span>}
              </li>
            ))}
          </ul>
        </ConfirmDialog>
      )}
    </aside>
  );
}

function inUseMessage(users: readonly CredentialUser[], canvasToo: boolean): string {
  const live = users.filter((u) => u.active).length;
  const saved = users.length === 0 ? 'Saved workflows use it' : users.length === 1 ? 'This saved workflow uses it' : `These ${users.length} saved workflows use it`;
  const canvas = canvasToo ? ', and so does the one on the canvas' : '';
  const when = live > 0 ? ' Live ones fail on their next trigger.' : '';
  return `${saved}${canvas}. Their steps that use it fail until you add a credential with this name again.${when}`;
}

/** Credential names the canvas workflow refers to, by `auth` or `getCredential(…)`. */
export function useUsedCredentials(): Set<string> {
  const doc = useDocument();
  const catalogue = useCatalogue();
  return useMemo(() => new Set(credentialCalls(doc, catalogue)), [doc, catalogue]);
}

function AddCredentialForm({
  initialName,
  existing,
  onDone,
}: {
  initialName: string;
  existing: readonly Credential[];
  onDone: () => void;
}) {
  const { credentials } = useServices();
  const pushToast = useBuilder((s) => s.pushToast);
  const [name, setName] = useState(initialName);
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  // Until the user edits the list, it follows the suggestion: the value's own host, or the template's.
  const [editedHosts, setEditedHosts] = useState<string[] | null>(null);
  const [typedHost, setTypedHost] = useState('');
  const meta = useBuilder((s) => s.meta);
  const hosts = editedHosts ?? suggestedHosts(value, templateHostsOf(meta, name.trim()));
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const valueRef = useRef<HTMLInputElement>(null);
  const ids = { name: useId(), value: useId(), description: useId(), hosts: useId() };

  useEffect(() => (initialName ? valueRef.current : nameRef.current)?.focus(), [initialName]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input = { name: name.trim(), value, description, allowedHosts: withTypedHost(hosts, typedHost) };
    const problems = checkNewCredential(input, existing);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    setSaving(true);
    try {
      const created = await credentials.add(input);
      setValue('');
      setTypedHost('');
      pushToast('success', `Added credential “${created.name}”`);
      onDone();
    } catch (error) {
      setErrors(formErrorsOf(error, input.name));
      if (error instanceof ApiError && error.status === 409) void credentials.refresh(); // Show the one that exists.
    } finally {
      setSaving(false);
    }
  };

  const cancel = () => {
    setValue('');
    onDone();
  };

  return (
    <form className="credential-form" onSubmit={(e) => void submit(e)} noValidate data-testid="credential-form">
      <h3 className="credential-form__title">New credential</h3>
      <FormField label="Name" htmlFor={ids.name} error={errors.name} testId="credential-name">
        <input
          id={ids.name}
          ref={nameRef}
          className="input input--mono"
          value={name}
          placeholder="e.g. notionToken"
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          aria-invalid={Boolean(errors.name)}
          onChange={(e) => setName(e.target.value)}
          data-testid="credential-name"
        />
      </FormField>
      <FormField label="Value" htmlFor={ids.value} error={errors.value} testId="credential-value">
        <SecretInput
          id={ids.value}
          inputRef={valueRef}
          value={value}
          onChange={setValue}
          invalid={Boolean(errors.value)}
          testId="credential-value"
        />
      </FormField>
      <FormField label="Description" optional htmlFor={ids.description} error={errors.description} testId="credential-description">
        <input
          id={ids.description}
          className="input"
          value={description}
          placeholder="What is it for?"
          autoComplete="off"
          onChange={(e) => setDescription(e.target.value)}
          data-testid="credential-description"
        />
      </FormField>
      <FormField label="Only send to" optional htmlFor={ids.hosts} error={errors.allowedHosts} testId="credential-hosts">
        <HostList id={ids.hosts} hosts={hosts} onChange={setEditedHosts} typed={typedHost} onType={setTypedHost} />
      </FormField>
      {errors.form && (
        <p className="field__error" role="alert" data-testid="credential-form-error">
          {errors.form}
        </p>
      )}
      <div className="credential-form__actions">
        <button type="button" className="button button--ghost button--small" onClick={cancel} data-testid="credential-cancel">
          Cancel
        </button>
        <button type="submit" className="button button--primary button--small" disabled={saving} data-testid="credential-save">
          {saving ? 'Saving…' : 'Save credential'}
        </button>
      </div>
    </form>
  );
}

function CredentialRow({ credential, inUse, onDelete }: { credential: Credential; inUse: boolean; onDelete: () => void }) {
  const { credentials } = useServices();
  const pushToast = useBuilder((s) => s.pushToast);
  const [replacing, setReplacing] = useState(false);
  const [value, setValue] = useState('');
  const [hosts, setHosts] = useState<string[]>(credential.allowedHosts);
  const [typedHost, setTypedHost] = useState('');
  const hostsId = useId();
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);
  const valueId = useId();

  const close = () => {
    setValue('');
    setTypedHost('');
    setErrors({});
    setReplacing(false);
  };
  const startReplacing = () => {
    setHosts(credential.allowedHosts);
    setReplacing(true);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (value === '') {
      setErrors({ value: 'Enter the new secret value' });
      return;
    }
    setSaving(true);
    try {
      await credentials.replace(credential.name, value, withTypedHost(hosts, typedHost));
      close();
      pushToast('success', `Replaced the value of “${credential.name}”`);
    } catch (error) {
      setErrors(formErrorsOf(error, credential.name));
    } finally {
      setSaving(false);
    }
  };

  const updated = credential.updatedAt || credential.createdAt;
  return (
    <li className={`credential${replacing ? ' is-editing' : ''}`} data-testid={`credential-row-${credential.name}`}>
      <div className="credential__main">
        <div className="credential__head">
          <span className="credential__name">{credential.name}</span>
          {inUse && (
            <span className="chip chip--primary" title="This workflow refers to it">
              In use
            </span>
          )}
        </div>
        <code className="credential__masked" data-testid="credential-masked">
          {credential.masked}
        </code>
        {credential.description && <p className="credential__description">{credential.description}</p>}
        {credential.allowedHosts.length > 0 && (
          <p className="credential__hosts" data-testid="credential-allowed-hosts">
            <Icon name="lock" size={12} />
            <span>
              Only sent to{' '}
              {credential.allowedHosts.map((host, index) => (
                <span key={host}>
                  {index > 0 && ', '}
                  <code>{host}</code>
                </span>
              ))}
            </span>
          </p>
        )}
        {updated && (
          <time className="credential__time" dateTime={updated} title={new Date(updated).toLocaleString()}>
            Updated {formatRelative(updated)}
          </time>
        )}
      </div>
      {!replacing && (
        <div className="credential__actions">
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={startReplacing}
            data-testid="credential-replace"
          >
            Replace
          </button>
          <button
            type="button"
            className="icon-button icon-button--quiet icon-button--danger"
            aria-label={`Delete ${credential.name}`}
            title="Delete"
            onClick={onDelete}
            data-testid="credential-delete"
          >
            <Icon name="trash" size={15} />
          </button>
        </div>
      )}
      {replacing && (
        <form className="credential__replace" onSubmit={(e) => void submit(e)} noValidate>
          <FormField label="New value" htmlFor={valueId} error={errors.value ?? errors.form} testId="credential-replace-value">
            <SecretInput
              id={valueId}
              value={value}
              onChange={setValue}
              invalid={Boolean(errors.value)}
              autoFocus
              testId="credential-replace-value"
            />
          </FormField>
          <FormField label="Only send to" optional htmlFor={hostsId} error={errors.allowedHosts} testId="credential-hosts">
            <HostList id={hostsId} hosts={hosts} onChange={setHosts} typed={typedHost} onType={setTypedHost} />
          </FormField>
          <div className="credential-form__actions">
            <button type="button" className="button button--ghost button--small" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="button button--primary button--small" disabled={saving} data-testid="credential-replace-save">
              {saving ? 'Saving…' : 'Save new value'}
            </button>
          </div>
        </form>
      )}
    </li>
  );
}

/**
 * The hosts a credential may be sent to, as a list: each entry with its remove button, and a box that adds one
 * (Enter or "Add"). The server checks each entry and names a bad one; nothing is decided here.
 */
function HostList({
  id,
  hosts,
  onChange,
  typed,
  onType,
}: {
  id: string;
  hosts: readonly string[];
  onChange: (hosts: string[]) => void;
  typed: string;
  onType: (text: string) => void;
}) {
  const add = () => {
    const next = withTypedHost(hosts, typed);
    if (next.length !== hosts.length) onChange(next);
    onType('');
  };
  return (
    <div className="host-list" data-testid="credential-hosts">
      {hosts.length > 0 && (
        <ul className="host-list__items" aria-label="Allowed hosts">
          {hosts.map((host) => (
            <li key={host} className="host-list__item" data-testid="credential-host">
              <code>{host}</code>
              <button
                type="button"
                className="icon-button icon-button--quiet"
                aria-label={`Remove ${host}`}
                title="Remove"
                onClick={() => onChange(hosts.filter((h) => h !== host))}
                data-testid="credential-host-remove"
              >
                <Icon name="close" size={12} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="host-list__add">
        <input
          id={id}
          className="input input--mono"
          value={typed}
          placeholder="api.example.com or *.example.com"
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => onType(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault(); // adds the host; it does not submit the form
              add();
            }
          }}
          data-testid="credential-host-input"
        />
        <button type="button" className="button button--ghost button--small" onClick={add} data-testid="credential-host-add">
          Add
        </button>
      </div>
      <p className="field__hint muted small" data-testid="credential-hosts-hint">
        {hosts.length === 0
          ? 'Any host: steps may send it anywhere. Add hosts to keep it from going elsewhere.'
          : 'A step that would send it to any other host fails before connecting, redirects included.'}
      </p>
    </div>
  );
}

function FormField({
  label,
  optional,
  htmlFor,
  error,
  testId,
  children,
}: {
  label: string;
  optional?: boolean;
  htmlFor: string;
  error?: string;
  testId: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' field--invalid' : ''}`}>
      <label className="field__label" htmlFor={htmlFor}>
        {label}
        {optional && <span className="field__optional"> optional</span>}
      </label>
      {children}
      {error && (
        <p className="field__error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A password-style input with a show/hide toggle; nothing offers to remember what is typed. */
function SecretInput({
  id,
  inputRef,
  value,
  onChange,
  invalid,
  autoFocus,
  testId,
}: {
  id: string;
  inputRef?: Ref<HTMLInputElement>;
  value: string;
  onChange: (value: string) => void;
  invalid: boolean;
  autoFocus?: boolean;
  testId: string;
}) {
  const [shown, setShown] = useState(false);
  return (
    <div className="secret-input">
      <input
        id={id}
        ref={inputRef}
        className="input input--mono"
        type={shown ? 'text' : 'password'}
        value={value}
        placeholder="Paste the secret"
        autoComplete="new-password"
        autoFocus={autoFocus}
        spellCheck={false}
        data-1p-ignore
        data-lpignore="true"
        aria-invalid={invalid}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
      />
      <button
        type="button"
        className="icon-button icon-button--quiet secret-input__toggle"
        aria-label={shown ? 'Hide value' : 'Show value'}
        aria-pressed={shown}
        title={shown ? 'Hide value' : 'Show value'}
        onClick={() => setShown(!shown)}
        data-testid={`${testId}-reveal`}
      >
        <Icon name={shown ? 'eyeOff' : 'eye'} size={15} />
      </button>
    </div>
  );
}
