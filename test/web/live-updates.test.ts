import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../../web/src/lib/api-client.js';
import { createLiveUpdates } from '../../web/src/lib/live-updates.js';
import { inEveryScope, queryKeys } from '../../web/src/lib/query-keys.js';

/**
 * Live events against a real QueryClient: each query on screen is an observer whose fetches are counted,
 * so the test shows which queries an event refetches and which it leaves alone.
 */
const api = createApiClient({ userId: 'user-1', baseUrl: 'http://merit.invalid' });
const { scope } = api;

const observers: (() => void)[] = [];
afterEach(() => {
  for (const stop of observers.splice(0)) stop();
});

/** Puts a query "on screen" and counts its fetches. */
async function watch(client: QueryClient, queryKey: readonly unknown[]): Promise<{ fetches: number }> {
  const counter = { fetches: 0 };
  const observer = new QueryObserver(client, {
    queryKey,
    queryFn: async () => {
      counter.fetches++;
      return counter.fetches;
    },
    staleTime: Number.POSITIVE_INFINITY,
  });
  observers.push(observer.subscribe(() => {}));
  await expect.poll(() => counter.fetches).toBe(1);
  return counter;
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('live updates', () => {
  it("refetches the leaderboard and agent B's figures for an event naming B, never agent A's", async () => {
    const client = new QueryClient();
    const leaderboard = await watch(client, queryKeys.leaderboard(scope, ''));
    const aPerformance = await watch(client, queryKeys.agentPerformance(scope, 'agent_a', null));
    const aTrend = await watch(client, queryKeys.agentTrend(scope, 'agent_a', '7d'));
    const aNodes = await watch(client, queryKeys.agentNodes(scope, 'agent_a', '7d'));
    const bPerformance = await watch(client, queryKeys.agentPerformance(scope, 'agent_b', null));
    const updates = createLiveUpdates(client, api);

    updates.onLeaderboard(['agent_b']);
    await expect.poll(() => bPerformance.fetches).toBe(2);
    await expect.poll(() => leaderboard.fetches).toBe(2);
    await settle();
    expect([aPerformance.fetches, aTrend.fetches, aNodes.fetches]).toEqual([1, 1, 1]);
    updates.dispose();
  });

  it('refetches every agent for a leaderboard event that names none', async () => {
    const client = new QueryClient();
    const aPerformance = await watch(client, queryKeys.agentPerformance(scope, 'agent_a', null));
    const bTrend = await watch(client, queryKeys.agentTrend(scope, 'agent_b', 'all'));
    const updates = createLiveUpdates(client, api);

    updates.onLeaderboard([]);
    await expect.poll(() => [aPerformance.fetches, bTrend.fetches]).toEqual([2, 2]);
    updates.dispose();
  });

  it("refetches a task's own queries for its event and leaves other tasks and the leaderboard alone", async () => {
    const client = new QueryClient();
    const evaluation = await watch(client, queryKeys.taskEvaluation(scope, 'task-1'));
    const otherEvaluation = await watch(client, queryKeys.taskEvaluation(scope, 'task-2'));
    const leaderboard = await watch(client, queryKeys.leaderboard(scope, ''));
    const updates = createLiveUpdates(client, api);

    updates.onTask({ id: 'task-1', agent_id: 'agent_a', status: 'completed' } as Parameters<
      typeof updates.onTask
    >[0]);
    await expect.poll(() => evaluation.fetches).toBe(2);
    await settle();
    expect([otherEvaluation.fetches, leaderboard.fetches]).toEqual([1, 1]);
    updates.dispose();
  });

  it('refetches the categories for a categories event and the agent list for an agents event', async () => {
    const client = new QueryClient();
    const categories = await watch(client, queryKeys.categories(scope));
    const agents = await watch(client, queryKeys.agents(scope));
    const updates = createLiveUpdates(client, api);

    updates.onCategories();
    await expect.poll(() => categories.fetches).toBe(2);
    await settle();
    expect(agents.fetches).toBe(1);
    updates.onAgents();
    await expect.poll(() => agents.fetches).toBe(2);
    expect(categories.fetches).toBe(2);
    updates.dispose();
  });

  it("never touches another project's queries", async () => {
    const client = new QueryClient();
    const other = createApiClient({
      userId: 'user-1',
      baseUrl: 'http://merit.invalid',
      auth: { csrfToken: null, project: 'other' },
    });
    const otherLeaderboard = await watch(client, queryKeys.leaderboard(other.scope, ''));
    const updates = createLiveUpdates(client, api);

    updates.onLeaderboard([]);
    updates.onReconnect();
    await settle();
    expect(otherLeaderboard.fetches).toBe(1);
    updates.dispose();
  });

  it("refetches the shell's category list in whichever scope an admin page changed categories", async () => {
    const client = new QueryClient();
    const categories = await watch(client, queryKeys.categories(scope));
    const agents = await watch(client, queryKeys.agents(scope));

    await client.invalidateQueries(inEveryScope('categories'));
    expect([categories.fetches, agents.fetches]).toEqual([2, 1]);
  });
});
