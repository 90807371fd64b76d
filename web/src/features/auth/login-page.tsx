import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { Spinner } from '../../components/spinner.js';
import { ApiError, describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { AuthSession } from '../../lib/api-schemas.js';

export interface LoginPageProps {
  /** Why the user is here again (a session that ended), shown above the form. */
  notice: string | null;
  onLoggedIn: (session: AuthSession) => void;
}

function describeLoginError(error: unknown): string {
  // The server answers the same 401 for an unknown email and a wrong password, and so does this page.
  if (error instanceof ApiError && error.status === 401) return 'Wrong email or password.';
  if (error instanceof ApiError && error.status === 429)
    return `${error.message} Wait a moment and try again.`;
  return describeError(error);
}

/** Email and password sign-in, shown in required mode to a browser without a session. */
export function LoginPage({ notice, onLoggedIn }: LoginPageProps) {
  const api = useApi();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const emailRef = useRef<HTMLInputElement | null>(null);
  const passwordRef = useRef<HTMLInputElement | null>(null);
  const baseId = useId();
  const errorId = `${baseId}-error`;

  useEffect(() => emailRef.current?.focus(), []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (submitting) return;
    setSubmitting(true);
    setError(null);
    try {
      const session = await api.login(email.trim(), password);
      if (!session.authenticated) throw new ApiError(401, 'unauthorized', 'Wrong email or password.');
      onLoggedIn(session);
    } catch (cause) {
      setError(describeLoginError(cause));
      setPassword('');
      passwordRef.current?.focus();
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <div className="login-screen">
      <main className="login-card" aria-labelledby={`${baseId}-title`}>
        <h1 className="brand login-brand">
          Merit <span aria-hidden="true">·</span> <span className="brand-sub">Mission Control</span>
        </h1>
        <h2 id={`${baseId}-title`} className="login-title">
          Sign in
        </h2>
        {notice && (
          <p className="notice login-notice" role="status" data-testid="login-notice">
            {notice}
          </p>
        )}
        <form className="login-form" onSubmit={(event) => void submit(event)}>
          <label className="field">
            <span className="field-label">Email</span>
            <input
              ref={emailRef}
              className="field-input"
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.target.value)}
              aria-invalid={error !== null}
              aria-describedby={error ? errorId : undefined}
              data-testid="login-email"
            />
          </label>
          <label className="field">
            <span className="field-label">Password</span>
            <input
              ref={passwordRef}
              className="field-input"
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              aria-invalid={error !== null}
              aria-describedby={error ? errorId : undefined}
              data-testid="login-password"
            />
          </label>
          {error && (
            <p id={errorId} className="login-error" role="alert" data-testid="login-error">
              {error}
            </p>
          )}
          <button
            type="submit"
            className="button button-primary login-submit"
            disabled={submitting}
            data-testid="login-submit"
          >
            {submitting && <Spinner />}
            {submitting ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="muted small login-help">
          No account yet? The server's owner creates one with{' '}
          <code>npx merit users create --email you@example.com</code>.
        </p>
      </main>
    </div>
  );
}
