import type { QueryClient } from '@tanstack/react-query';
import type { ApiClient } from './api-client.js';
import type { Task } from './api-schemas.js';
import { queryKeys } from './query-keys.js';
import { patchTask, refreshNewestPages } from './task-cache.js';

/**
 * What each live event changes in the query cache, and nothing more. Invalidation refetches only the
 * queries on screen; the others are fetched when next shown.
 */
export interface LiveUpdates {
  /** A task changed: the page holding it gets the new copy, and its own queries are stale. */
  onTask: (task: Task) => void;
  /** These agents' statistics changed (empty: every agent's). */
  onLeaderboard: (agentIds: readonly string[]) => void;
  onCategories: () => void;
  onAgents: () => void;
  /** The stream came back after a drop: anything may have changed meanwhile. */
  onReconnect: () => void;
  /** Cancels the refreshes still waiting. */
  dispose: () => void;
}

// Bursts of events (a task's nodes finishing one after another) cause one refetch, not many.
const BURST_MS = 400;

export function createLiveUpdates(queryClient: QueryClient, api: ApiClient): LiveUpdates {
  const { scope } = api;
  const invalidate = (queryKey: readonly unknown[]) => void queryClient.invalidateQueries({ queryKey });
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const later = (name: string, run: () => void) => {
    clearTimeout(timers.get(name));
    timers.set(name, setTimeout(run, BURST_MS));
  };
  // The agents named by the leaderboard events of one burst, refreshed together.
  let burstAgents: Set<string> | 'all' = new Set();
  return {
    onTask: (task) => {
      patchTask(queryClient, api, task);
      invalidate(queryKeys.task(scope, task.id));
      // Running counts on the roster follow tasks starting and finishing.
      later('agents', () => invalidate(queryKeys.agents(scope)));
    },
    onLeaderboard: (agentIds) => {
      invalidate(queryKeys.leaderboards(scope));
      // Arena battles are announced as a leaderboard change of no agent in particular.
      if (agentIds.length === 0) invalidate(queryKeys.arenaRatingLists(scope));
      if (agentIds.length === 0) invalidate(queryKeys.agentFigures(scope));
      for (const agentId of agentIds) invalidate(queryKeys.agent(scope, agentId));
      // Project-wide figures that ratings and scores feed.
      invalidate(queryKeys.reviewers(scope));
      invalidate(queryKeys.calibration(scope));
      invalidate(['merit', scope, 'routing-quality']);
      if (agentIds.length === 0) burstAgents = 'all';
      else if (burstAgents !== 'all') for (const agentId of agentIds) burstAgents.add(agentId);
      later('scores', () => {
        const named = burstAgents === 'all' ? [] : [...burstAgents];
        burstAgents = new Set();
        refreshNewestPages(queryClient, api, named).catch(() => {
          // The next event or a reconnect fetches again.
        });
      });
    },
    onCategories: () => invalidate(queryKeys.categories(scope)),
    onAgents: () => invalidate(queryKeys.agents(scope)),
    onReconnect: () => invalidate(['merit', scope]),
    dispose: () => {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
