import type { Range, StreamFilters } from './route.js';

/**
 * The TanStack Query keys of Mission Control's data, in one place so that a live event or a mutation can
 * name exactly the queries it changes. Every key starts with the API client's scope (project and user):
 * one project's cache never answers for another's. Keys are prefixes of one another where an event
 * changes a group: `task(scope, id)` covers that task's whole text, evaluation and routing decision;
 * `agent(scope, id)` covers that agent's performance, trend and node figures.
 */
/**
 * Filters for one kind of query in whichever scope it was fetched (pages that act through their own
 * connection, such as the admin pages, do not hold the shell's API client).
 */
export function inEveryScope(kind: 'agents' | 'categories') {
  return {
    predicate: (query: { queryKey: readonly unknown[] }) =>
      query.queryKey[0] === 'merit' && query.queryKey[2] === kind,
  };
}

export const queryKeys = {
  agents: (scope: string) => ['merit', scope, 'agents'] as const,
  categories: (scope: string) => ['merit', scope, 'categories'] as const,
  /** Every loaded task list (the stream under any filters). */
  taskLists: (scope: string) => ['merit', scope, 'task-list'] as const,
  taskList: (scope: string, filters: StreamFilters) => ['merit', scope, 'task-list', filters] as const,
  task: (scope: string, taskId: string) => ['merit', scope, 'task', taskId] as const,
  taskWhole: (scope: string, taskId: string, status: string) =>
    ['merit', scope, 'task', taskId, 'whole', status] as const,
  taskEvaluation: (scope: string, taskId: string) => ['merit', scope, 'task', taskId, 'evaluation'] as const,
  taskNodes: (scope: string, taskId: string) => ['merit', scope, 'task', taskId, 'nodes'] as const,
  taskRoutingDecision: (scope: string, taskId: string) =>
    ['merit', scope, 'task', taskId, 'routing-decision'] as const,
  /** The leaderboard under every category. */
  leaderboards: (scope: string) => ['merit', scope, 'leaderboard'] as const,
  leaderboard: (scope: string, category: string) => ['merit', scope, 'leaderboard', category] as const,
  /** Every agent's figures. */
  agentFigures: (scope: string) => ['merit', scope, 'agent'] as const,
  agent: (scope: string, agentId: string) => ['merit', scope, 'agent', agentId] as const,
  agentPerformance: (scope: string, agentId: string, cursor: string | null) =>
    ['merit', scope, 'agent', agentId, 'performance', cursor] as const,
  agentTrend: (scope: string, agentId: string, range: Range) =>
    ['merit', scope, 'agent', agentId, 'trend', range] as const,
  agentNodes: (scope: string, agentId: string, range: Range) =>
    ['merit', scope, 'agent', agentId, 'nodes', range] as const,
  /** The Arena ratings under every category. */
  arenaRatingLists: (scope: string) => ['merit', scope, 'arena-ratings'] as const,
  arenaRatings: (scope: string, category: string) => ['merit', scope, 'arena-ratings', category] as const,
  /** The reviewers under every window. */
  reviewers: (scope: string) => ['merit', scope, 'reviewers'] as const,
  reviewersOver: (scope: string, window: Range) => ['merit', scope, 'reviewers', window] as const,
  calibration: (scope: string) => ['merit', scope, 'calibration'] as const,
  routingQuality: (scope: string, days: number) => ['merit', scope, 'routing-quality', days] as const,
};
