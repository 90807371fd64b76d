import { describe, expect, it } from 'vitest';
import { findPairRewardStats } from '../../src/routing/routing.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

describe.each(databaseKinds())("the router's statistics with pending scores (%s PostgreSQL)", (kind) => {
  it('counts failures and completed tasks whose score has not arrived, per agent and category', async () => {
    const fresh = await createTestApp(kind);
    try {
      const task = (command: string, extra: Record<string, unknown>) => ({
        agent_id: 'agent_e',
        command,
        objective_category: 'review',
        status: 'completed',
        duration_ms: 20_000,
        ...extra,
      });
      const { status } = await fresh.call('POST', '/api/tasks/batch', {
        tasks: [
          task('review this', { result: 'done', user_rating: 4 }),
          task('review that', { status: 'failed', error: 'x' }),
          task('review it', { result: 'done' }),
          task('review them', { result: 'done' }),
        ],
      });
      expect(status).toBe(201);
      const [pair] = await findPairRewardStats(fresh.ctx.db, DEFAULT_PROJECT_ID, {
        since: new Date(Date.now() - 86_400_000),
      });
      // The rating and the failure are rewards; the two unrated completions await their scores.
      expect(pair).toMatchObject({ agentId: 'agent_e', category: 'review', n: 2, failures: 1, unscored: 2 });
    } finally {
      await fresh.close();
    }
  });
});
