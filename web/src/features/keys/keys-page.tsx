import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { Spinner } from '../../components/spinner.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import { type ApiKey, type CreatedApiKey, KEY_SCOPES, type KeyScope } from '../../lib/api-schemas.js';
import { formatDateTime } from '../../lib/format.js';
import { readKeyForm, SCOPE_HINTS } from './key-form.js';

export interface KeysPageProps {
  projectName: string;
  onBack: () => void;
}

/** The project's API keys for admins: list, create (the secret shown once) and revoke. */
export function KeysPage({ projectName, onBack }: KeysPageProps) {
  const api = useApi();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const result = await api.listKeys(signal);
        setKeys(result.keys);
        setLoadError(null);
      } catch (error) {
        if (signal?.aborted) return;
        setLoadError(describeError(error));
      }
    },
    [api],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const replaceKey = (key: ApiKey) =>
    setKeys((current) => (current ?? []).map((item) => (item.id === key.id ? key : item)));

  return (
    <section className="keys-page" aria-labelledby="keys-title" data-testid="keys-page">
      <div className="keys-head">
        <button type="button" className="link-button" onClick={onBack} data-testid="keys-back">
          ← Back to the conversation
        </button>
        <h2 id="keys-title" className="keys-title">
          API keys <span className="muted">· {projectName}</span>
        </h2>
        <p className="muted small">
          A key acts for this project only. Send it as <code>Authorization: Bearer merit_…</code>.
        </p>
      </div>
      {created ? (
        <CreatedKeySecret created={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateKeyForm
          onCreated={(result) => {
            setCreated(result);
            setKeys((current) => [result.key, ...(current ?? []).filter((key) => key.id !== result.key.id)]);
          }}
        />
      )}
      <h3 className="panel-title keys-list-title">Keys of this project</h3>
      {loadError && (
        <div className="notice notice-error" role="alert">
          <span>{loadError}</span>
          <button type="button" className="button" onClick={() => void load()}>
            Retry
          </button>
        </div>
      )}
      {keys === null && !loadError && (
        <p className="muted" role="status">
          <Spinner /> Loading keys…
        </p>
      )}
      {keys !== null && keys.length === 0 && <p className="muted">No keys yet.</p>}
      {keys !== null && keys.length > 0 && <KeyTable keys={keys} onRevoked={replaceKey} />}
    </section>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (created: CreatedApiKey) => void }) {
  const api = useApi();
  const baseId = useId();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<KeyScope[]>(['ingest']);
  const [origins, setOrigins] = useState('');
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const toggleScope = (scope: KeyScope, on: boolean) => {
    setScopes((current) =>
      on
        ? KEY_SCOPES.filter((item) => item === scope || current.includes(item))
        : current.filter((item) => item !== scope),
    );
    setError(null);
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = readKeyForm(name, scopes, origins);
    if (!form.ok) {
      setError({ field: form.field, message: form.message });
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      onCreated(await api.createKey(form.value));
      setName('');
      setOrigins('');
    } catch (cause) {
      setError({ field: null, message: describeError(cause) });
    } finally {
      setSubmitting(false);
    }
  };

  const errorId = `${baseId}-error`;
  const describedBy = (field: string) => (error?.field === field ? errorId : undefined);

  return (
    <form className="key-form" onSubmit={(event) => void submit(event)} data-testid="key-form">
      <h3 className="panel-title">New key</h3>
      <label className="field">
        <span className="field-label">Name</span>
        <input
          className="field-input"
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setError(null);
          }}
          maxLength={100}
          aria-invalid={error?.field === 'name'}
          aria-describedby={describedBy('name')}
          data-testid="key-name"
        />
      </label>
      <fieldset
        className="key-scopes"
        aria-invalid={error?.field === 'scopes'}
        aria-describedby={describedBy('scopes')}
      >
        <legend className="field-label">Scopes</legend>
        {KEY_SCOPES.map((scope) => (
          <label key={scope} className="key-scope">
            <input
              type="checkbox"
              checked={scopes.includes(scope)}
              onChange={(event) => toggleScope(scope, event.target.checked)}
              data-testid={`key-scope-${scope}`}
            />
            <span>
              <strong>{scope}</strong> <span className="muted small">{SCOPE_HINTS[scope]}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span className="field-label">Allowed origins (optional, one per line)</span>
        <textarea
          className="field-input"
          rows={2}
          value={origins}
          placeholder="https://app.example.com"
          onChange={(event) => {
            setOrigins(event.target.value);
            setError(null);
          }}
          aria-invalid={error?.field === 'allowed_origins'}
          aria-describedby={describedBy('allowed_origins')}
          data-testid="key-origins"
        />
      </label>
      {error && (
        <p id={errorId} className="task-error" role="alert" data-testid="key-form-error">
          {error.message}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={submitting} data-testid="key-create">
        {submitting && <Spinner />}
        Create key
      </button>
    </form>
  );
}

function CreatedKeySecret({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const secretRef = useRef<HTMLInputElement | null>(null);
  const baseId = useId();

  useEffect(() => secretRef.current?.select(), []);

  const copySecret = async () => {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopy('copied');
    } catch {
      // No clipboard permission (an insecure origin, a denied prompt): select it for a manual copy.
      secretRef.current?.select();
      setCopy('failed');
    }
  };

  return (
    <section className="key-secret" data-testid="key-secret" aria-labelledby={`${baseId}-title`}>
      <h3 id={`${baseId}-title`} className="panel-title">
        Key “{created.key.name}” created
      </h3>
      <p className="key-warning" role="alert">
        Copy this key now. Merit keeps only a hash of it and will never show it again.
      </p>
      <div className="key-secret-row">
        <label htmlFor={`${baseId}-secret`} className="visually-hidden">
          The new key
        </label>
        <input
          id={`${baseId}-secret`}
          ref={secretRef}
          className="field-input key-secret-value"
          readOnly
          value={created.secret}
          onFocus={(event) => event.currentTarget.select()}
          data-testid="key-secret-value"
        />
        <button type="button" className="button" onClick={() => void copySecret()} data-testid="key-copy">
          Copy
        </button>
      </div>
      <p className="small" role="status" data-testid="key-copy-status">
        {copy === 'copied' && 'Copied to the clipboard.'}
        {copy === 'failed' && 'The browser refused the clipboard: the key is selected, copy it with Ctrl+C.'}
      </p>
      <button type="button" className="button button-primary" onClick={onDone} data-testid="key-secret-done">
        I have copied it
      </button>
    </section>
  );
}

function KeyTable({ keys, onRevoked }: { keys: ApiKey[]; onRevoked: (key: ApiKey) => void }) {
  return (
    <div className="keys-table-scroll">
      <table className="keys-table" data-testid="keys-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Prefix</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created by</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <KeyRow key={key.id} apiKey={key} onRevoked={onRevoked} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: (key: ApiKey) => void }) {
  const api = useApi();
  const [confirming, setConfirming] = useState(false);
  const [revoking, setRevoking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement | null>(null);
  const revokeRef = useRef<HTMLButtonElement | null>(null);

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  const revoke = async () => {
    setRevoking(true);
    setError(null);
    try {
      const result = await api.revokeKey(apiKey.id);
      setConfirming(false);
      onRevoked(result.key);
    } catch (cause) {
      setError(describeError(cause));
    } finally {
      setRevoking(false);
    }
  };

  const revoked = apiKey.revoked_at !== null;
  return (
    <tr data-testid="key-row" data-key-id={apiKey.id} data-revoked={revoked}>
      <th scope="row">{apiKey.name}</th>
      <td>
        <code>{apiKey.prefix}…</code>
      </td>
      <td>{apiKey.scopes.join(', ')}</td>
      <td>{apiKey.created_by}</td>
      <td>{formatDateTime(apiKey.created_at)}</td>
      <td>{apiKey.last_used_at ? formatDateTime(apiKey.last_used_at) : 'never'}</td>
      <td>
        {revoked ? (
          <span className="key-revoked" data-testid="key-status">
            Revoked {formatDateTime(apiKey.revoked_at)}
          </span>
        ) : confirming ? (
          <span className="key-confirm">
            <span className="small">Revoke “{apiKey.name}”? Calls with it stop at once.</span>
            <button
              ref={confirmRef}
              type="button"
              className="button button-small button-danger"
              onClick={() => void revoke()}
              disabled={revoking}
              data-testid="key-revoke-confirm"
            >
              Revoke
            </button>
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setConfirming(false);
                requestAnimationFrame(() => revokeRef.current?.focus());
              }}
              disabled={revoking}
            >
              Cancel
            </button>
          </span>
        ) : (
          <span className="key-confirm">
            <span data-testid="key-status">Active</span>
            <button
              ref={revokeRef}
              type="button"
              className="button button-small"
              onClick={() => setConfirming(true)}
              aria-label={`Revoke ${apiKey.name}`}
              data-testid="key-revoke"
            >
              Revoke
            </button>
          </span>
        )}
        {error && (
          <span className="task-error small" role="alert">
            {' '}
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}
