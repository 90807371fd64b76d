import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/identity/scope.js';
import { createRng } from '../../src/lib/random.js';
import {
  computeOutcomeReward,
  type DecisionOutcome,
  summarizeQualityDays,
} from '../../src/routing/routing.js';
import { findRoutingQualityDays } from '../../src/routing/routing.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from '../support/app.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Mid-hour, so windows ending now have a partial last hour.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 23, 456));
const START = new Date(NOW.getTime() - 3 * DAY);

/** The decision outcomes of a window as the route read them before the hourly rollup (the outcomes view). */
async function findOutcomesFromView(app: TestApp, scope: Scope, since: Date, until?: Date) {
  const rows = await app.ctx.db
    .selectFrom('routing_decision_outcomes')
    .selectAll()
    .where('project_id', '=', scope.projectId)
    .$if(scope.ownTasksOnly, (q) => q.where('user_id', '=', scope.userId))
    .where('created_at', '>=', since)
    .$if(until !== undefined, (q) => q.where('created_at', '<', until as Date))
    .orderBy('created_at')
    .execute();
  return rows.map(
    (row): DecisionOutcome => ({
      createdAt: row.created_at,
      reason: row.reason,
      chosenAgentId: row.chosen_agent_id,
      bestAgentId: row.best_agent_id,
      taskId: row.task_id,
      taskStatus: row.task_status,
      userRating: row.user_rating,
      judgeScore: row.judge_score === null ? null : Number(row.judge_score),
      peerScore: row.peer_score,
    }),
  );
}

/** The route's computation before the rollup, verbatim: per day and overall, from every outcome in order. */
function summarizeAsBefore(outcomes: readonly DecisionOutcome[]) {
  const round = (value: number) => Math.round(value * 10 ** 4) / 10 ** 4;
  const group = (day: string, list: readonly DecisionOutcome[]) => {
    const routed = list.filter((outcome) => outcome.reason !== 'mention');
    const rewards = routed.map(computeOutcomeReward).filter((reward): reward is number => reward !== null);
    const withBest = routed.filter((outcome) => outcome.bestAgentId !== null);
    const toBest = withBest.filter((outcome) => outcome.chosenAgentId === outcome.bestAgentId).length;
    return {
      day,
      decisions: list.length,
      routed: routed.length,
      rewarded: rewards.length,
      meanReward:
        rewards.length > 0 ? round(rewards.reduce((sum, reward) => sum + reward, 0) / rewards.length) : null,
      bestAgentShare: withBest.length > 0 ? round(toBest / withBest.length) : null,
    };
  };
  const byDay = new Map<string, DecisionOutcome[]>();
  for (const outcome of outcomes) {
    const day = outcome.createdAt.toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), outcome]);
  }
  const days = [...byDay.keys()].sort().map((day) => group(day, byDay.get(day) ?? []));
  const { day: _day, ...overall } = group('', outcomes);
  return { days, overall };
}

const SCOPES: Scope[] = [
  { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: true },
  { projectId: DEFAULT_PROJECT_ID, userId: OTHER_USER, ownTasksOnly: true },
  { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: false },
];

/** Windows with edges inside hours, on hour and day boundaries, a millisecond off them, and within one hour. */
function listWindows(): { since: Date; until?: Date }[] {
  const at = (ms: number) => new Date(ms);
  const dayStart = Date.UTC(2026, 10, 28);
  return [
    { since: at(0) },
    { since: START },
    { since: at(NOW.getTime() - DAY) },
    { since: at(NOW.getTime() - 30 * DAY) },
    { since: at(dayStart) },
    { since: at(dayStart), until: at(dayStart + DAY) },
    { since: at(dayStart + 1), until: at(dayStart + DAY - 1) },
    { since: at(dayStart - 1), until: at(dayStart + HOUR + 1) },
    { since: at(dayStart + 5 * HOUR + 123), until: at(dayStart + 5 * HOUR + 2_000_000) },
    { since: at(dayStart + 5 * HOUR + 123), until: at(dayStart + 6 * HOUR + 2_000_000) },
    { since: at(dayStart + 3 * HOUR), until: at(dayStart + 3 * HOUR + 1) },
    { since: at(NOW.getTime() - 2 * DAY - 17_000), until: NOW },
    { since: at(NOW.getTime() - 40 * HOUR + 1), until: at(NOW.getTime() + DAY) },
  ];
}

async function expectSameAnswers(app: TestApp) {
  for (const scope of SCOPES) {
    for (const window of listWindows()) {
      const expected = summarizeAsBefore(await findOutcomesFromView(app, scope, window.since, window.until));
      const actual = summarizeQualityDays(
        await findRoutingQualityDays(app.ctx.db, scope, window.since, window.until),
      );
      expect(actual, `${scope.userId} ${scope.ownTasksOnly} ${JSON.stringify(window)}`).toEqual(expected);
    }
  }
}

/** The hourly rows as a rebuild from the decisions gives them, and every decision's stored reward against a recompute. */
async function expectRollupMatchesRebuild(app: TestApp) {
  const stale = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM routing_decisions
    WHERE outcome_reward IS DISTINCT FROM (CASE WHEN task_id IS NULL THEN NULL ELSE merit_task_outcome_reward(task_id) END)
  `.execute(app.ctx.db);
  expect(stale.rows[0]?.n).toBe(0);
  const difference = await sql<Record<string, unknown>>`
    WITH rebuilt AS (
      SELECT project_id, user_id, date_trunc('hour', created_at, 'UTC') AS hour, count(*)::int AS decisions,
        count(*) FILTER (WHERE reason <> 'mention')::int AS routed,
        count(*) FILTER (WHERE reason <> 'mention' AND outcome_reward IS NOT NULL)::int AS rewarded,
        coalesce(sum(outcome_reward::numeric) FILTER (WHERE reason <> 'mention'), 0) AS reward_sum,
        count(*) FILTER (WHERE reason <> 'mention' AND best_agent_id IS NOT NULL)::int AS with_best,
        count(*) FILTER (WHERE reason <> 'mention' AND chosen_agent_id = best_agent_id)::int AS to_best
      FROM routing_decisions GROUP BY 1, 2, 3
    ),
    kept AS (
      SELECT project_id, user_id, hour, decisions, routed, rewarded, reward_sum, with_best, to_best
      FROM routing_quality_hourly
    )
    (SELECT 'missing' AS side, * FROM rebuilt EXCEPT SELECT 'missing', * FROM kept)
    UNION ALL
    (SELECT 'extra', * FROM kept EXCEPT SELECT 'extra', * FROM rebuilt)
  `.execute(app.ctx.db);
  expect(difference.rows).toEqual([]);
}

describe('routing quality from the hourly rollup', () => {
  let app: TestApp;
  const random = createRng(21);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = <T>(chance: number, value: () => T): T | null => (random() < chance ? value() : null);
  const score = () => Math.round(random() * 100) / 100;
  const pendingTasks: string[] = [];
  const finishedTasks: string[] = [];

  async function insertTask(user: string, agent: string, status: string, at: Date): Promise<string> {
    const id = crypto.randomUUID();
    const finished = status === 'completed' || status === 'failed';
    await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, status, result, error, created_at,
        started_at, completed_at)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${user}, ${agent}, 'quality task', ${status},
        ${status === 'completed' ? 'done' : null}, ${status === 'failed' ? 'boom' : null}, ${at},
        ${status === 'queued' ? null : at}, ${finished ? new Date(at.getTime() + 1000) : null})`.execute(
      app.ctx.db,
    );
    return id;
  }

  async function insertScore(taskId: string, user: string, agent: string) {
    await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
        accuracy_score, relevance_score, completeness_score, user_rating, peer_score)
      VALUES (${taskId}, ${DEFAULT_PROJECT_ID}, ${agent}, ${user}, 'general', ${maybe(0.5, score)},
        ${maybe(0.4, score)}, ${maybe(0.4, score)}, ${maybe(0.4, () => 1 + Math.floor(random() * 5))},
        ${maybe(0.3, score)})`.execute(app.ctx.db);
  }

  async function insertDecision(user: string, taskId: string | null, at: Date) {
    const chosen = pick(AGENTS);
    const reason = random() < 0.12 ? 'mention' : random() < 0.1 ? 'fallback_constraints' : 'thompson';
    const best = random() < 0.1 ? null : random() < 0.7 ? chosen : pick(AGENTS);
    await sql`INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, category_source,
        chosen_agent_id, reason, expected_score, interval_lower, interval_upper, best_agent_id, explanation, created_at)
      VALUES (${DEFAULT_PROJECT_ID}, ${user}, ${taskId}, 'quality decision', 'general', 'default', ${chosen}, ${reason},
        0.5, 0.4, 0.6, ${best}, 'why', ${at})`.execute(app.ctx.db);
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    const dayStart = Date.UTC(2026, 10, 28);
    // Decisions on hour and day boundaries and a microsecond-scale step either side of them.
    const edges = [0, 3 * HOUR, 3 * HOUR - 1, 3 * HOUR + 1, 5 * HOUR, DAY, DAY - 1, DAY + 1].map(
      (offset) => new Date(dayStart + offset),
    );
    for (let i = 0; i < 320; i++) {
      const user = random() < 0.6 ? USER : OTHER_USER;
      const agent = pick(AGENTS);
      const at =
        i < edges.length ? (edges[i] as Date) : new Date(START.getTime() + Math.floor(random() * 3 * DAY));
      const kind = random();
      if (kind < 0.15) {
        await insertDecision(user, null, at);
        continue;
      }
      const status = kind < 0.35 ? pick(['queued', 'running']) : kind < 0.45 ? 'failed' : 'completed';
      const taskId = await insertTask(user, agent, status, at);
      if (status === 'completed' && random() < 0.8) await insertScore(taskId, user, agent);
      await insertDecision(user, taskId, at);
      if (status === 'queued' || status === 'running') pendingTasks.push(taskId);
      else finishedTasks.push(taskId);
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives the answers of the outcomes view for decisions with and without tasks, pending, finished and rated', async () => {
    await expectRollupMatchesRebuild(app);
    await expectSameAnswers(app);
  });

  it('follows outcomes that arrive later: tasks finishing, ratings, judge and peer scores, deletions', async () => {
    for (const taskId of pendingTasks.splice(0, 40)) {
      const failed = random() < 0.3;
      await sql`UPDATE tasks SET status = ${failed ? 'failed' : 'completed'}, result = ${failed ? null : 'done'},
          error = ${failed ? 'boom' : null}, completed_at = now() WHERE id = ${taskId}`.execute(app.ctx.db);
      if (!failed && random() < 0.7) {
        const task = await app.ctx.db
          .selectFrom('tasks')
          .select(['user_id', 'agent_id'])
          .where('id', '=', taskId)
          .executeTakeFirstOrThrow();
        await insertScore(taskId, task.user_id, task.agent_id);
      }
    }
    for (const taskId of pendingTasks.splice(0, 5))
      await sql`UPDATE tasks SET status = 'running', started_at = now() WHERE id = ${taskId}`.execute(
        app.ctx.db,
      );
    for (const taskId of finishedTasks.slice(0, 120)) {
      const change = random();
      if (change < 0.3)
        await sql`UPDATE agent_performance_scores SET user_rating = ${1 + Math.floor(random() * 5)}
          WHERE task_id = ${taskId}`.execute(app.ctx.db);
      else if (change < 0.5)
        await sql`UPDATE agent_performance_scores SET accuracy_score = ${score()}, relevance_score = ${score()},
          completeness_score = ${maybe(0.5, score)} WHERE task_id = ${taskId}`.execute(app.ctx.db);
      else if (change < 0.65)
        await sql`UPDATE agent_performance_scores SET peer_score = ${score()} WHERE task_id = ${taskId}`.execute(
          app.ctx.db,
        );
      else if (change < 0.7)
        await sql`DELETE FROM agent_performance_scores WHERE task_id = ${taskId}`.execute(app.ctx.db);
      else if (change < 0.75) await sql`DELETE FROM tasks WHERE id = ${taskId}`.execute(app.ctx.db);
      else if (change < 0.8)
        await sql`DELETE FROM routing_decisions WHERE task_id = ${taskId}`.execute(app.ctx.db);
      else if (change < 0.85)
        // A retried task goes back to running: its reward is unknown again.
        await sql`UPDATE tasks SET status = 'running', result = NULL, completed_at = NULL WHERE id = ${taskId}`.execute(
          app.ctx.db,
        );
    }
    // A task, its score and its decision written by one statement (as the benchmark seeds them).
    await sql`
      WITH t AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, status, error, completed_at, created_at)
        VALUES (${DEFAULT_PROJECT_ID}, ${USER}, 'agent_a', 'one statement', 'failed', 'boom', ${NOW}, ${NOW})
        RETURNING id
      )
      INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, category_source,
        chosen_agent_id, reason, expected_score, interval_lower, interval_upper, best_agent_id, explanation, created_at)
      SELECT ${DEFAULT_PROJECT_ID}, ${USER}, id, 'one statement', 'general', 'default', 'agent_a', 'thompson',
        0.5, 0.4, 0.6, 'agent_a', 'why', ${new Date(NOW.getTime() - 5000)}
      FROM t
    `.execute(app.ctx.db);
    const oneStatement = await sql<{ outcome_reward: number | null }>`
      SELECT outcome_reward FROM routing_decisions WHERE command = 'one statement'
    `.execute(app.ctx.db);
    expect(oneStatement.rows).toEqual([{ outcome_reward: 0 }]);

    await expectRollupMatchesRebuild(app);
    await expectSameAnswers(app);
  });

  it('answers GET /api/routing/quality from the rollup as it answered from the view', async () => {
    for (const query of ['', '?window=all', '?window=24h', '?days=2', `?since=${START.toISOString()}`]) {
      const { status, body } = await app.call('GET', `/api/routing/quality${query}`);
      expect(status, query).toBe(200);
      // A named window (or days=) starts at a whole UTC hour: no decision of a partial hour is read raw.
      if (['', '?window=24h', '?days=2'].includes(query))
        expect(Date.parse(body.since) % 3_600_000, query).toBe(0);
      const expected = summarizeAsBefore(
        await findOutcomesFromView(app, SCOPES[0] as Scope, new Date(body.since), undefined),
      );
      expect(body.overall, query).toEqual({
        decisions: expected.overall.decisions,
        routed: expected.overall.routed,
        rewarded: expected.overall.rewarded,
        mean_reward: expected.overall.meanReward,
        best_agent_share: expected.overall.bestAgentShare,
      });
      expect(
        body.days.map((day: { day: string; decisions: number }) => [day.day, day.decisions]),
        query,
      ).toEqual(expected.days.map((day) => [day.day, day.decisions]));
    }
  });
});
