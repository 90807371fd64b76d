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

const RANGE_DAYS: Record<string, number> = { '24h': 1, '7d': 7, '30d': 30, '90d': 90 };

/** `since` for a chart range (`24h`, `7d`, `30d`, `90d`); undefined for `all` or an unknown range. */
export function sinceForRange(range: string, now: Date): string | undefined {
  const days = RANGE_DAYS[range];
  return days === undefined ? undefined : new Date(now.getTime() - days * 86_400_000).toISOString();
}
