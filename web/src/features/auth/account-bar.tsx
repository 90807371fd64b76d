import { useEffect, useId, useRef } from 'react';
import type { Account, ProjectMembership } from '../../lib/api-schemas.js';

export interface AccountBarProps {
  account: Account | null;
  project: ProjectMembership | null;
  projects: ProjectMembership[];
  onSelectProject: (slug: string) => void;
  /** Puts focus on the project selector when shown (the app was rebuilt for the project just chosen). */
  focusProjectSelect?: boolean;
  /** Shown to admins and owners: opens the API keys page. */
  keysHref: string | null;
  loggingOut: boolean;
  logoutError: string | null;
  onLogout: () => void;
}

/** The signed-in account, its project (a selector when it has several) and "Log out", for the header. */
export function AccountBar(props: AccountBarProps) {
  const { account, project, projects, onSelectProject, keysHref, loggingOut, logoutError, onLogout } = props;
  const selectId = useId();
  const selectRef = useRef<HTMLSelectElement | null>(null);
  const focusSelect = props.focusProjectSelect ?? false;

  useEffect(() => {
    if (focusSelect) selectRef.current?.focus();
  }, [focusSelect]);
  return (
    <div className="account-bar" data-testid="account-bar">
      {projects.length > 1 ? (
        <span className="project-picker">
          <label htmlFor={selectId} className="project-label">
            Project
          </label>
          <select
            ref={selectRef}
            id={selectId}
            className="project-select"
            value={project?.slug ?? ''}
            onChange={(event) => onSelectProject(event.target.value)}
            data-testid="project-select"
          >
            {projects.map((item) => (
              <option key={item.id} value={item.slug}>
                {item.name}
              </option>
            ))}
          </select>
        </span>
      ) : (
        project && (
          <span className="project-name" data-testid="project-name">
            <span className="project-label">Project </span>
            {project.name}
          </span>
        )
      )}
      {project && (
        <span className="chip" data-testid="account-role" title="Your role in this project">
          {project.role}
        </span>
      )}
      {keysHref && (
        <a className="link-button" href={keysHref} data-testid="keys-link">
          API keys
        </a>
      )}
      {account && (
        <span className="account-email" data-testid="account-email">
          <span className="visually-hidden">Signed in as </span>
          {account.email}
        </span>
      )}
      <button
        type="button"
        className="button button-small"
        onClick={onLogout}
        disabled={loggingOut}
        data-testid="logout"
      >
        Log out
      </button>
      {logoutError && (
        <span className="logout-error small" role="alert" data-testid="logout-error">
          {logoutError}
        </span>
      )}
    </div>
  );
}
