import { useQuery } from '@tanstack/react-query';
import { type KeyboardEvent, type ReactNode, useId, useRef, useState } from 'react';
import { AgentsTab } from './agents-tab.js';
import { sessionQuery } from './api/admin-queries.js';
import { describeRequestError, type MeritConnection } from './api/request.js';
import { CategoriesTab } from './categories-tab.js';
import { MembersTab } from './members-tab.js';
import { PricesTab } from './prices-tab.js';
import { ReviewersTab } from './reviewers-tab.js';

export const ADMIN_TABS = ['members', 'keys', 'categories', 'agents', 'prices', 'reviewers'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

const TAB_LABELS: Record<AdminTab, string> = {
  members: 'Members and roles',
  keys: 'API keys',
  categories: 'Categories',
  agents: 'Agents',
  prices: 'Prices',
  reviewers: 'Reviewers',
};

export interface AdminPageProps {
  connection: MeritConnection;
  /** The tab to show; the shell keeps it in the URL. Uncontrolled (starting on members) when absent. */
  tab?: AdminTab;
  onTabChange?: (tab: AdminTab) => void;
  /** Opens the existing API keys page (web/src/features/keys); the keys tab links to it. */
  onOpenKeys?: () => void;
}

/**
 * The project's administration over the existing API: members and roles, a link to API keys, categories,
 * agents (Merit's and external ones), prices and reviewers. Viewers and members read; the controls that
 * change something are shown to admins and owners only (the API refuses the others anyway).
 */
export function AdminPage({ connection, tab, onTabChange, onOpenKeys }: AdminPageProps) {
  const [ownTab, setOwnTab] = useState<AdminTab>('members');
  const current = tab ?? ownTab;
  const select = (next: AdminTab) => {
    setOwnTab(next);
    onTabChange?.(next);
  };
  const session = useQuery(sessionQuery(connection));
  const baseId = useId();
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = ADMIN_TABS.indexOf(current);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = ADMIN_TABS[(index + step + ADMIN_TABS.length) % ADMIN_TABS.length] as AdminTab;
    select(next);
    tabRefs.current[next]?.focus();
  };

  let body: ReactNode;
  if (session.isPending)
    body = (
      <p className="muted" role="status">
        Loading…
      </p>
    );
  else if (session.isError)
    body = (
      <div className="notice notice-error" role="alert">
        {describeRequestError(session.error)}
      </div>
    );
  else {
    // Local mode acts as the owner of its one project (this machine only).
    const role = session.data.mode === 'local' ? 'owner' : session.data.role;
    const canAdmin = role === 'owner' || role === 'admin';
    const localMode = session.data.mode === 'local';
    const context = { connection, csrfToken: session.data.csrf_token, canAdmin, role, localMode };
    body =
      current === 'members' ? (
        <MembersTab {...context} />
      ) : current === 'keys' ? (
        <KeysLink canAdmin={canAdmin} onOpenKeys={onOpenKeys} />
      ) : current === 'categories' ? (
        <CategoriesTab {...context} />
      ) : current === 'agents' ? (
        <AgentsTab {...context} />
      ) : current === 'prices' ? (
        <PricesTab connection={connection} />
      ) : (
        <ReviewersTab connection={connection} />
      );
  }

  const role = session.data?.mode === 'local' ? 'owner' : (session.data?.role ?? null);
  return (
    <section className="admin-page" aria-labelledby={`${baseId}-title`} data-testid="admin-page">
      <h2 id={`${baseId}-title`} className="panel-title">
        Administration
        {session.data?.project && <span className="muted"> · {session.data.project.name}</span>}
      </h2>
      {role !== null && role !== 'owner' && role !== 'admin' && (
        <p className="muted small" data-testid="admin-read-only">
          You are a {role} of this project: you can read these settings; an admin changes them.
        </p>
      )}
      {/* Six tabs wrap on a phone rather than widen the page. */}
      <div
        className="tabs"
        role="tablist"
        aria-label="Administration"
        onKeyDown={onKeyDown}
        style={{ flexWrap: 'wrap' }}
      >
        {ADMIN_TABS.map((name) => (
          <button
            key={name}
            ref={(element) => {
              tabRefs.current[name] = element;
            }}
            type="button"
            role="tab"
            id={`${baseId}-tab-${name}`}
            className="tab"
            aria-selected={current === name}
            aria-controls={`${baseId}-panel`}
            tabIndex={current === name ? 0 : -1}
            onClick={() => select(name)}
            data-testid={`admin-tab-${name}`}
          >
            {TAB_LABELS[name]}
          </button>
        ))}
      </div>
      <div
        className="tabpanel"
        role="tabpanel"
        id={`${baseId}-panel`}
        aria-labelledby={`${baseId}-tab-${current}`}
        data-testid={`admin-panel-${current}`}
      >
        {body}
      </div>
    </section>
  );
}

function KeysLink({ canAdmin, onOpenKeys }: { canAdmin: boolean; onOpenKeys: (() => void) | undefined }) {
  if (!canAdmin) return <p className="muted">API keys are managed by the project's admins.</p>;
  return (
    <p>
      API keys have their own page, where a new key is shown once.{' '}
      {onOpenKeys ? (
        <button type="button" className="button" onClick={onOpenKeys} data-testid="admin-open-keys">
          Open API keys
        </button>
      ) : (
        <span className="muted">Open it from the account menu.</span>
      )}
    </p>
  );
}
