import { buildExportUrl, type ExportKind } from './export-links.js';

const TITLES: Record<ExportKind, string> = {
  leaderboard: 'leaderboard',
  tasks: 'task history',
  'routing-decisions': 'routing decisions',
};

export interface ExportMenuProps {
  kind: ExportKind;
  /**
   * The view's filters (`since`, `until`, `agent_id`, `category`, `status`, `mine`, `min_sample`) and who
   * asks: `user_id` in local mode, `project` (the slug) when signed in. Empty values are left out.
   */
  params: Readonly<Record<string, string | null | undefined>>;
}

/** Download links for the view's data as CSV or JSON, with the filters on screen. */
export function ExportMenu({ kind, params }: ExportMenuProps) {
  return (
    <nav
      className="export-menu small"
      aria-label={`Download the ${TITLES[kind]}`}
      data-testid={`export-${kind}`}
    >
      <span className="muted">Download {TITLES[kind]}:</span>{' '}
      <a
        className="button button-small"
        href={buildExportUrl(kind, 'csv', params)}
        download
        data-format="csv"
      >
        CSV
      </a>{' '}
      <a
        className="button button-small"
        href={buildExportUrl(kind, 'json', params)}
        download
        data-format="json"
      >
        JSON
      </a>
    </nav>
  );
}
