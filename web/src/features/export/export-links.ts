/** Download addresses of the exports (pure, tested with literal inputs). */

export type ExportKind = 'leaderboard' | 'tasks' | 'routing-decisions';
export type ExportFormat = 'csv' | 'json';

/** The filters each export takes; any other parameter is left out (the server would ignore it). */
const ACCEPTED: Record<ExportKind, readonly string[]> = {
  leaderboard: ['since', 'until', 'category', 'min_sample'],
  tasks: ['since', 'until', 'agent_id', 'category', 'status', 'unrated', 'q', 'session_id', 'mine'],
  'routing-decisions': ['since', 'until', 'agent_id', 'category'],
};

/** Who the download is for: local mode's user and the signed-in project travel in the address. */
const CONNECTION = ['user_id', 'project'] as const;

export function buildExportUrl(
  kind: ExportKind,
  format: ExportFormat,
  params: Readonly<Record<string, string | null | undefined>>,
): string {
  const search = new URLSearchParams({ format });
  for (const name of [...CONNECTION, ...ACCEPTED[kind]]) {
    const value = params[name];
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  return `/api/export/${kind}?${search.toString()}`;
}
