import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildEvaluationDeps,
  type EvaluationDeps,
  evaluateTask,
} from '../../src/evaluation/evaluation.jobs.js';
import { createRng } from '../../src/lib/random.js';
import { reviewTask } from '../../src/reviews/review.jobs.js';
import { findRollupDrift, TRIGGER_ROLLUPS } from '../../src/stats/rollup-upkeep.js';
import { recomputeAllStats } from '../../src/stats/stats.queries.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c', 'agent_d', 'agent_e'];
const CATEGORIES = ['research', 'coding', 'general', 'writing'];
const OUTPUTS = [
  '## Findings\n\n- Point one about the topic\n- Point two\n\nIn summary, the topic matters.',
  'Short answer.',
  'Error: the tool crashed',
  'A long paragraph about research, coding and planning that covers the topic in depth with examples.',
];
const FIRST = { attempts: 1, maxAttempts: 6 };

// Every column except the refresh timestamp and the rank (which only the scheduled job writes).
async function snapshotStats(app: TestApp) {
  const agents = await sql<Record<string, unknown>>`
    SELECT * FROM agent_performance_stats ORDER BY agent_id`.execute(app.ctx.db);
  const categories = await sql<Record<string, unknown>>`
    SELECT * FROM agent_category_stats ORDER BY agent_id, objective_category`.execute(app.ctx.db);
  // The daily rows (agent_daily_stats), their sums as numbers: the UTC day of each task's finish.
  const days = await sql<Record<string, unknown>>`
    SELECT project_id, agent_id, objective_category, user_id, day::text AS day, total_tasks, successful_tasks,
      failed_tasks, scored_tasks, sum_overall_score::float8 AS sum_overall_score,
      sum_sq_overall_score::float8 AS sum_sq_overall_score, rated_tasks, sum_user_rating::float8 AS sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost::float8 AS total_cost,
      metered_tasks, priced_tasks, total_duration_ms, reward_points, rewarded_tasks, sum_reward::float8 AS sum_reward,
      sum_sq_reward::float8 AS sum_sq_reward, unscored_tasks, completed_priced, completed_cost::float8 AS completed_cost,
      completed_timed, completed_duration_ms, first_task_at, last_task_at
    FROM agent_daily_stats ORDER BY agent_id, objective_category, user_id, day`.execute(app.ctx.db);
  // The hourly rows (agent_hourly_stats, migration 019), every column but the refresh timestamp.
  const hours = await sql<Record<string, unknown>>`
    SELECT * FROM agent_hourly_stats ORDER BY agent_id, objective_category, user_id, hour`.execute(
    app.ctx.db,
  );
  const strip = (row: Record<string, unknown>) => {
    const { last_updated: _updated, overall_rank: _rank, ...rest } = row;
    return rest;
  };
  return {
    agents: agents.rows.map(strip),
    categories: categories.rows.map(strip),
    days: days.rows,
    hours: hours.rows.map(strip),
  };
}

async function runRandomHistory(app: TestApp, deps: EvaluationDeps, seed: number, steps: number) {
  const random = createRng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const unfinished: string[] = [];
  const completed: string[] = [];
  for (let step = 0; step < steps; step++) {
    const action = random();
    if (action < 0.25 || unfinished.length === 0) {
      const created = await app.call('POST', '/api/tasks', {
        agent_id: pick(AGENTS),
        command: `${pick(['research', 'write code for', 'summarize'])} topic ${step}`,
        objective_category: pick(CATEGORIES),
        status: pick(['queued', 'running']),
      });
      unfinished.push(created.body.id);
    } else if (action < 0.45) {
      const id = unfinished.splice(Math.floor(random() * unfinished.length), 1)[0] as string;
      await app.call('POST', `/api/tasks/${id}/complete`, {
        result: pick(OUTPUTS),
        model: pick(['gpt-4o-mini', 'gpt-4o', 'unknown-model']),
        prompt_tokens: Math.floor(random() * 3000),
        completion_tokens: Math.floor(random() * 1500),
        duration_ms: Math.floor(random() * 60_000),
      });
      completed.push(id);
    } else if (action < 0.52) {
      const id = unfinished.splice(Math.floor(random() * unfinished.length), 1)[0] as string;
      await app.call('POST', `/api/tasks/${id}/fail`, {
        error: 'boom',
        duration_ms: Math.floor(random() * 9000),
      });
    } else if (action < 0.6) {
      const tasks = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => {
        const base = {
          agent_id: pick(AGENTS),
          command: `batch ${step}-${i}`,
          objective_category: pick(CATEGORIES),
          total_tokens: Math.floor(random() * 4000),
          duration_ms: Math.floor(random() * 40_000),
        };
        return random() < 0.8
          ? {
              ...base,
              status: 'completed',
              result: pick(OUTPUTS),
              ...(random() < 0.5 ? { user_rating: 1 + Math.floor(random() * 5) } : {}),
            }
          : { ...base, status: 'failed', error: 'failed in batch' };
      });
      const batch = await app.call('POST', '/api/tasks/batch', { tasks });
      if (batch.status !== 201) throw new Error(JSON.stringify(batch.body));
      tasks.forEach((task, index) => {
        if (task.status === 'completed') completed.push(batch.body.task_ids[index]);
      });
    } else if (action < 0.75 && completed.length > 0) {
      await app.call('POST', `/api/tasks/${pick(completed)}/feedback`, {
        user_rating: 1 + Math.floor(random() * 5),
      });
    } else if (action < 0.88 && completed.length > 0) {
      await evaluateTask(deps, pick(completed), FIRST);
    } else if (completed.length > 0) {
      await reviewTask(deps, pick(completed), FIRST);
    }
  }
}

describe.each(databaseKinds())('incremental statistics (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let deps: EvaluationDeps;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    deps = buildEvaluationDeps(app.ctx.config, app.ctx.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([1, 2, 3])(
    'equal a full recompute after a random history of creates, completions, failures, ratings, evaluations and reviews (seed %i)',
    async (seed) => {
      await runRandomHistory(app, deps, seed, 120);
      const incremental = await snapshotStats(app);
      expect(incremental.agents.length).toBeGreaterThan(0);
      expect(incremental.days.length).toBeGreaterThan(0);
      expect(incremental.hours.length).toBeGreaterThan(0);
      // The router's sums saw rewards of every kind: failures, rated, judged and reviewed tasks.
      const rewards = incremental.agents.reduce<{ rewarded: number; unscored: number; total: number }>(
        (sum, row) => ({
          rewarded: sum.rewarded + Number(row.rewarded_tasks),
          unscored: sum.unscored + Number(row.unscored_tasks),
          total: sum.total + Number(row.sum_reward),
        }),
        { rewarded: 0, unscored: 0, total: 0 },
      );
      expect(rewards.rewarded).toBeGreaterThan(0);
      expect(rewards.total).toBeGreaterThan(0);
      const evaluated = await sql<{ evaluations: number; reviews: number }>`
        SELECT (SELECT count(*)::int FROM task_evaluations) AS evaluations,
          (SELECT count(*)::int FROM agent_peer_evaluations) AS reviews`.execute(app.ctx.db);
      expect(evaluated.rows[0]?.evaluations).toBeGreaterThan(0);
      expect(evaluated.rows[0]?.reviews).toBeGreaterThan(0);
      await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
      const recomputed = await snapshotStats(app);
      expect(incremental).toEqual(recomputed);
      // The rollups kept by triggers (routing quality, node days, reviewers, evaluators' spend) equal a
      // recompute from their raw rows too, and so do the decisions' rewards and reviews' ratings they copy.
      for (const rollup of TRIGGER_ROLLUPS)
        expect(await findRollupDrift(app.ctx.db, rollup), rollup).toEqual([]);
    },
  );
});
