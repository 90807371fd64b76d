import { type Kysely, sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { EventBus, type LiveEvent } from '../../src/events/event-bus.js';
import { createRng } from '../../src/lib/random.js';
import { rollUpOldTasks } from '../../src/retention/retention.queries.js';
import {
  findAllNodeDayDrift,
  findRollupDrift,
  type RollupDrift,
  rebuildRollup,
  TRIGGER_ROLLUPS,
  type TriggerRollup,
} from '../../src/stats/rollup-upkeep.js';
import { describeStatsRecompute, runStatsRecompute } from '../../src/stats/stats.jobs.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from '../support/app.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const NODE_NAMES = ['plan', 'act', 'review'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Everything happens on the six whole UTC days before today, so the reads below (since/until on day
// boundaries) take every figure from the rollups, none from partial hours or days of raw rows.
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const SINCE = new Date(TODAY - 8 * DAY).toISOString();
const UNTIL = new Date(TODAY).toISOString();
const WINDOW = `since=${SINCE}&until=${UNTIL}`;

/** Runs statements with the triggers off (as a restore or a hand-written repair could). */
async function behindTriggers(db: Kysely<Database>, damage: (trx: Transaction<Database>) => Promise<void>) {
  await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    await damage(trx);
  });
}

async function countRows(db: Kysely<Database>, table: TriggerRollup) {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(db);
  return result.rows[0]?.n ?? 0;
}

async function findAllDrift(db: Kysely<Database>) {
  return Object.fromEntries(
    await Promise.all(TRIGGER_ROLLUPS.map(async (rollup) => [rollup, await findRollupDrift(db, rollup)])),
  );
}

const hourOf = (row: RollupDrift) => (row.key.hour ? new Date(row.key.hour).getTime() : undefined);

const NO_DRIFT = Object.fromEntries(TRIGGER_ROLLUPS.map((rollup) => [rollup, []]));

describe('trigger-kept rollups: drift found and rebuilt from the raw rows', () => {
  let app: TestApp;
  const random = createRng(25);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = <T>(chance: number, value: () => T): T | null => (random() < chance ? value() : null);
  const score = () => Math.round(random() * 100) / 100;
  const taskIds: string[] = [];

  /** What the three read endpoints answer over the seeded days (every agent's nodes). */
  async function readAll() {
    const quality = await app.call('GET', `/api/routing/quality?${WINDOW}`);
    const reviewers = await app.call('GET', `/api/reviewers?${WINDOW}`);
    const nodes = [];
    for (const agent of AGENTS) nodes.push(await app.call('GET', `/api/agents/${agent}/nodes?${WINDOW}`));
    for (const answer of [quality, reviewers, ...nodes]) expect(answer.status).toBe(200);
    return { quality: quality.body, reviewers: reviewers.body, nodes: nodes.map((answer) => answer.body) };
  }

  async function seedTask(i: number) {
    const id = crypto.randomUUID();
    const agent = pick(AGENTS);
    const user = random() < 0.75 ? USER : OTHER_USER;
    const at = new Date(TODAY - 6 * DAY + Math.floor(random() * 6 * DAY));
    const status = random() < 0.75 ? 'completed' : random() < 0.7 ? 'failed' : 'running';
    const finished = status !== 'running';
    await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result,
        error, created_at, started_at, completed_at, duration_ms)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${user}, ${agent}, ${`task ${i}`}, 'research', ${status},
        ${status === 'completed' ? 'done' : null}, ${status === 'failed' ? 'boom' : null}, ${at}, ${at}, ${finished ? new Date(at.getTime() + 60_000) : null},
        ${finished ? 60_000 : null})`.execute(app.ctx.db);
    taskIds.push(id);
    if (status === 'completed' && random() < 0.85) {
      const judged = random() < 0.6;
      await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
          overall_score, user_rating, accuracy_score, relevance_score, completeness_score, peer_score)
        VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${agent}, ${user}, 'research', ${score()},
          ${maybe(0.6, () => 1 + Math.floor(random() * 5))}, ${judged ? score() : null}, ${judged ? score() : null},
          ${maybe(0.5, score)}, ${maybe(0.4, score)})`.execute(app.ctx.db);
    }
    for (let sequence = 0; sequence < 1 + Math.floor(random() * 3); sequence++) {
      const ranAt = new Date(at.getTime() + sequence * 1000);
      await sql`INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens,
          success, started_at, created_at)
        VALUES (${id}, ${agent}, ${pick(NODE_NAMES)}, ${sequence}, ${maybe(0.85, () => Math.floor(random() * 9000))},
          ${Math.floor(random() * 3000)}, ${random() < 0.8}, ${random() < 0.8 ? ranAt : null},
          ${ranAt}::timestamptz AT TIME ZONE 'UTC')`.execute(app.ctx.db);
    }
    if (finished)
      for (const reviewer of AGENTS.filter((other) => other !== agent)) {
        if (random() < 0.3) continue;
        const done = random() < 0.85;
        const metered = random() < 0.7;
        await sql`INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective,
            status, failure_reason, score, source, evaluator_version, prompt_tokens, completion_tokens,
            estimated_cost, created_at)
          VALUES (${id}, ${agent}, ${reviewer}, 'critic', ${done ? 'done' : 'failed'}, ${done ? null : 'timeout'},
            ${done ? score() : null}, ${random() < 0.6 ? 'llm' : 'heuristic'}, 'v1',
            ${metered ? 100 + Math.floor(random() * 900) : null}, ${metered ? 10 + Math.floor(random() * 90) : null},
            ${metered ? maybe(0.7, () => Math.round(random() * 1e5) / 1e6) : null},
            (${new Date(at.getTime() + 120_000)}::timestamptz AT TIME ZONE 'UTC'))`.execute(app.ctx.db);
      }
    if (finished && random() < 0.8) {
      const judge = random() < 0.7;
      const metered = random() < 0.75;
      await sql`INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score,
          completeness_score, source, evaluator_version, model, prompt_tokens, completion_tokens, estimated_cost,
          created_at)
        VALUES (${id}, ${judge ? 'judge' : 'heuristic'}, 'done', ${score()}, ${score()}, ${score()},
          ${judge ? 'judge' : 'heuristic'}, 'v1', ${judge ? pick(['model-1', 'model-2', null]) : null},
          ${metered ? 200 + Math.floor(random() * 800) : null}, ${metered ? 20 : null},
          ${metered ? maybe(0.7, () => Math.round(random() * 1e5) / 1e6) : null},
          ${new Date(at.getTime() + 90_000)})`.execute(app.ctx.db);
    }
    // Most tasks were routed (a mention or the router's choice); a few decisions have no task.
    const taskOfDecision = random() < 0.9 ? id : null;
    if (random() < 0.85)
      await sql`INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, category_source,
          chosen_agent_id, reason, expected_score, interval_lower, interval_upper, best_agent_id, explanation,
          created_at)
        VALUES (${DEFAULT_PROJECT_ID}, ${user}, ${taskOfDecision}, 'routed', 'research', 'default', ${agent},
          ${random() < 0.15 ? 'mention' : 'thompson'}, 0.5, 0.4, 0.6, ${maybe(0.8, () => pick(AGENTS))}, 'why',
          ${at})`.execute(app.ctx.db);
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    for (let i = 0; i < 150; i++) await seedTask(i);
    // Writes after the fact, through the triggers: ratings given, changed and cleared, a task failing,
    // a score row deleted, a review and an evaluation deleted, nodes rebuilt, a decision deleted.
    for (const id of taskIds.slice(0, 40)) {
      const change = random();
      if (change < 0.3)
        await sql`UPDATE agent_performance_scores SET user_rating = ${1 + Math.floor(random() * 5)}
          WHERE task_id = ${id}`.execute(app.ctx.db);
      else if (change < 0.4)
        await sql`UPDATE agent_performance_scores SET user_rating = NULL WHERE task_id = ${id}`.execute(
          app.ctx.db,
        );
      else if (change < 0.5)
        await sql`UPDATE tasks SET status = 'failed', error = 'late failure' WHERE id = ${id}`.execute(
          app.ctx.db,
        );
      else if (change < 0.6)
        await sql`DELETE FROM agent_performance_scores WHERE task_id = ${id}`.execute(app.ctx.db);
      else if (change < 0.7)
        await sql`DELETE FROM agent_peer_evaluations WHERE id IN (
            SELECT id FROM agent_peer_evaluations WHERE task_id = ${id} LIMIT 1)`.execute(app.ctx.db);
      else if (change < 0.8)
        await sql`DELETE FROM task_evaluations WHERE task_id = ${id}`.execute(app.ctx.db);
      else if (change < 0.9)
        await sql`UPDATE agent_node_performance SET duration_ms = NULL, success = NOT success
          WHERE task_id = ${id}`.execute(app.ctx.db);
      else await sql`DELETE FROM routing_decisions WHERE task_id = ${id}`.execute(app.ctx.db);
    }
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it("finds no drift where the triggers kept the rollups, and a rebuild changes nothing (the recomputes are the triggers' sums)", async () => {
    const db = app.ctx.db;
    for (const rollup of TRIGGER_ROLLUPS) expect(await countRows(db, rollup), rollup).toBeGreaterThan(10);
    // The data exercise every sum: rewards, rating pairs, unpriced and unmetered calls, the model-less evaluator.
    const exercised = await sql<Record<string, number>>`
      SELECT (SELECT sum(rewarded) FROM routing_quality_hourly)::int AS rewarded,
        (SELECT sum(to_best) FROM routing_quality_hourly)::int AS to_best,
        (SELECT sum(pairs) FROM reviewer_hourly_stats)::int AS pairs,
        (SELECT sum(unpriced_calls + unmetered_calls) FROM reviewer_hourly_stats)::int AS unknown_spend,
        (SELECT count(*) FROM evaluator_hourly_spend WHERE model IS NULL)::int AS modelless,
        (SELECT sum(runs - timed_runs) FROM agent_node_daily_stats)::int AS untimed
    `.execute(db);
    for (const [name, value] of Object.entries(exercised.rows[0] ?? {}))
      expect(value, name).toBeGreaterThan(0);
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
    const before = await readAll();
    // The scheduled job checks and finds nothing to repair: it takes no lock and rebuilds nothing.
    const result = await runStatsRecompute(db);
    expect(
      result.rollups.map(({ rollup, drifted, rowsChanged, rawRowsFixed }) => ({
        rollup,
        drifted,
        rowsChanged,
        rawRowsFixed,
      })),
    ).toEqual(TRIGGER_ROLLUPS.map((rollup) => ({ rollup, drifted: 0, rowsChanged: 0, rawRowsFixed: 0 })));
    expect(describeStatsRecompute(result)).toContain('routing_quality_hourly consistent');
    // A rebuild of consistent rollups changes nothing either.
    for (const rollup of TRIGGER_ROLLUPS) {
      const repair = await db.transaction().execute((trx) => rebuildRollup(trx, rollup));
      expect(repair, rollup).toEqual({ rollup, rowsChanged: 0, rawRowsFixed: 0 });
    }
    expect(await readAll()).toEqual(before);
  });

  it('routing_quality_hourly: a changed row, a deleted row and a stale outcome_reward are named, repaired, and the quality answers as before', async () => {
    const db = app.ctx.db;
    const before = await readAll();
    const hours = await sql<{ hour: Date }>`
      SELECT hour FROM routing_quality_hourly WHERE user_id = ${USER} AND rewarded > 0 ORDER BY hour LIMIT 2`.execute(
      db,
    );
    const [changed, deleted] = hours.rows.map((row) => row.hour);
    const decision = await sql<{ id: string; outcome_reward: number }>`
      SELECT id, outcome_reward FROM routing_decisions
      WHERE user_id = ${USER} AND reason <> 'mention' AND outcome_reward IS NOT NULL AND outcome_reward <> 0.125
        AND date_trunc('hour', created_at, 'UTC') NOT IN (${changed}, ${deleted})
      ORDER BY id LIMIT 1`.execute(db);
    const stale = decision.rows[0];
    if (changed === undefined || deleted === undefined || stale === undefined)
      throw new Error('no data to damage');
    await behindTriggers(db, async (trx) => {
      await sql`UPDATE routing_quality_hourly SET decisions = decisions + 3, reward_sum = reward_sum + 1
        WHERE user_id = ${USER} AND hour = ${changed}`.execute(trx);
      await sql`DELETE FROM routing_quality_hourly WHERE user_id = ${USER} AND hour = ${deleted}`.execute(
        trx,
      );
      await sql`UPDATE routing_decisions SET outcome_reward = 0.125 WHERE id = ${stale.id}`.execute(trx);
    });
    const drift = await findRollupDrift(db, 'routing_quality_hourly');
    expect(
      drift.map((row) => [row.table, row.table === 'routing_decisions' ? row.key.id : hourOf(row)]),
    ).toEqual(
      expect.arrayContaining([
        ['routing_quality_hourly', changed.getTime()],
        ['routing_quality_hourly', deleted.getTime()],
        ['routing_decisions', stale.id],
      ]),
    );
    expect(drift).toHaveLength(3);
    const deletedRow = drift.find((row) => hourOf(row) === deleted.getTime());
    expect(deletedRow?.stored).toBeNull();
    expect(deletedRow?.recomputed).toMatch(/^\d+\/\d+\/\d+\//);
    expect(drift.find((row) => row.table === 'routing_decisions')).toMatchObject({
      key: { id: stale.id, column: 'outcome_reward' },
      stored: '0.125',
      recomputed: String(stale.outcome_reward),
    });
    expect((await readAll()).quality).not.toEqual(before.quality);
    const result = await runStatsRecompute(db);
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'routing_quality_hourly')).toMatchObject({
      rowsChanged: 2,
      rawRowsFixed: 1,
    });
    expect(describeStatsRecompute(result)).toMatch(
      /routing_quality_hourly \d+ drifted, 2 rows changed, 1 decisions' outcome_reward set again/,
    );
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
    expect(await readAll()).toEqual(before);
  });

  it('agent_node_daily_stats: a changed, a deleted and an invented row are named, repaired, and the nodes answer as before', async () => {
    const db = app.ctx.db;
    const before = await readAll();
    await behindTriggers(db, async (trx) => {
      await sql`UPDATE agent_node_daily_stats SET runs = runs + 2, sum_total_tokens = 7
        WHERE (agent_id, day, node_name, user_id) = (
          SELECT agent_id, day, node_name, user_id FROM agent_node_daily_stats WHERE agent_id = 'agent_a' AND user_id = ${USER}
          ORDER BY day, node_name LIMIT 1)`.execute(trx);
      await sql`DELETE FROM agent_node_daily_stats
        WHERE (agent_id, day, node_name, user_id) = (
          SELECT agent_id, day, node_name, user_id FROM agent_node_daily_stats WHERE agent_id = 'agent_b' AND user_id = ${USER}
          ORDER BY day, node_name LIMIT 1)`.execute(trx);
      await sql`INSERT INTO agent_node_daily_stats (project_id, agent_id, user_id, day, node_name, runs, successful_runs,
          timed_runs, sum_duration_ms, metered_runs, sum_total_tokens)
        VALUES (${DEFAULT_PROJECT_ID}, 'agent_c', ${USER}, ${new Date(TODAY - 3 * DAY).toISOString().slice(0, 10)}::date,
          'invented', 4, 4, 4, 400, 4, 40)`.execute(trx);
    });
    const drift = await findRollupDrift(db, 'agent_node_daily_stats');
    expect(drift.map((row) => row.key.agent_id).sort()).toEqual(['agent_a', 'agent_b', 'agent_c']);
    expect(drift.find((row) => row.key.node_name === 'invented')).toMatchObject({
      stored: '4/4/4/400/4/40',
      recomputed: null,
    });
    expect(drift.find((row) => row.key.agent_id === 'agent_b')?.stored).toBeNull();
    const damaged = await readAll();
    expect(damaged.nodes).not.toEqual(before.nodes);
    const result = await runStatsRecompute(db);
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'agent_node_daily_stats')).toMatchObject({
      rowsChanged: 3,
      rawRowsFixed: 0,
    });
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
    expect(await readAll()).toEqual(before);
  });

  it("reviewer rollups: truncated hours and days and a review's stale rating are named, repaired, and the reviewers answer as before", async () => {
    const db = app.ctx.db;
    const before = await readAll();
    const hours = await countRows(db, 'reviewer_hourly_stats');
    const days = await countRows(db, 'reviewer_daily_stats');
    const rated = await sql<{ id: string; user_rating: number }>`
      SELECT id, user_rating FROM agent_peer_evaluations WHERE user_rating IS NOT NULL ORDER BY id LIMIT 1`.execute(
      db,
    );
    const review = rated.rows[0];
    if (review === undefined) throw new Error('no rated review');
    await behindTriggers(db, async (trx) => {
      await sql`UPDATE agent_peer_evaluations SET user_rating = ${review.user_rating === 1 ? 5 : 1}
        WHERE id = ${review.id}`.execute(trx);
    });
    // The days are checked against the hours (the hours against the reviews): a lost day is found there.
    await sql`TRUNCATE reviewer_daily_stats`.execute(db);
    const dailyDrift = await findRollupDrift(db, 'reviewer_daily_stats');
    expect(dailyDrift).toHaveLength(days);
    expect(dailyDrift.every((row) => row.table === 'reviewer_daily_stats' && row.stored === null)).toBe(true);
    await sql`TRUNCATE reviewer_hourly_stats`.execute(db);
    const drift = await findRollupDrift(db, 'reviewer_hourly_stats');
    expect(drift.filter((row) => row.table === 'reviewer_hourly_stats')).toHaveLength(hours);
    expect(drift.every((row) => row.table !== 'reviewer_hourly_stats' || row.stored === null)).toBe(true);
    // The stale copy is the hourly rollup's to set again; its rebuild runs before the days'.
    expect(drift.filter((row) => row.table === 'agent_peer_evaluations')).toEqual([
      {
        rollup: 'reviewer_hourly_stats',
        table: 'agent_peer_evaluations',
        key: { id: review.id, column: 'user_rating' },
        stored: String(review.user_rating === 1 ? 5 : 1),
        recomputed: String(review.user_rating),
      },
    ]);
    expect((await readAll()).reviewers).not.toEqual(before.reviewers);
    const result = await runStatsRecompute(db);
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'reviewer_hourly_stats')).toMatchObject({
      rowsChanged: hours,
      rawRowsFixed: 1,
    });
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'reviewer_daily_stats')).toMatchObject({
      rowsChanged: days,
      rawRowsFixed: 0,
    });
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
    expect(await readAll()).toEqual(before);
  });

  it('evaluator rollups: truncated hours and days are named, repaired, and the evaluators answer as before', async () => {
    const db = app.ctx.db;
    const before = await readAll();
    const hours = await countRows(db, 'evaluator_hourly_spend');
    const days = await countRows(db, 'evaluator_daily_spend');
    await sql`TRUNCATE evaluator_daily_spend`.execute(db);
    const dailyDrift = await findRollupDrift(db, 'evaluator_daily_spend');
    expect(dailyDrift).toHaveLength(days);
    // The offline evaluator's days and hours (no model) are keys like any other.
    expect(dailyDrift.some((row) => row.key.model === null)).toBe(true);
    await sql`TRUNCATE evaluator_hourly_spend`.execute(db);
    const drift = await findRollupDrift(db, 'evaluator_hourly_spend');
    expect(drift).toHaveLength(hours);
    expect(drift.some((row) => row.key.model === null)).toBe(true);
    expect((await readAll()).reviewers).not.toEqual(before.reviewers);
    // The repair is announced (Mission Control refetches); the statistics were consistent, so they were
    // neither rebuilt nor announced.
    const events = new EventBus();
    const announced: LiveEvent[] = [];
    events.subscribe((event) => announced.push(event));
    const result = await runStatsRecompute(db, events);
    expect(result.statistics).toMatchObject({ drifted: 0, rebuilt: false });
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'evaluator_hourly_spend')).toMatchObject({
      rowsChanged: hours,
    });
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'evaluator_daily_spend')).toMatchObject({
      rowsChanged: days,
    });
    // One announcement per repaired rollup.
    expect(announced).toEqual([
      { type: 'leaderboard', projectId: null, agentIds: [] },
      { type: 'leaderboard', projectId: null, agentIds: [] },
    ]);
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
    expect(await readAll()).toEqual(before);
  });

  it('a writer whose trigger moves a rollup waits for its rebuild and lands on the rebuilt row', async () => {
    const db = app.ctx.db;
    const rated = await sql<{ task_id: string; user_rating: number }>`
      SELECT s.task_id, s.user_rating FROM agent_performance_scores s
      WHERE s.user_rating IS NOT NULL AND EXISTS (SELECT 1 FROM agent_peer_evaluations p WHERE p.task_id = s.task_id)
        AND EXISTS (SELECT 1 FROM routing_decisions d WHERE d.task_id = s.task_id AND d.reason <> 'mention')
      ORDER BY s.task_id LIMIT 1`.execute(db);
    const task = rated.rows[0];
    if (task === undefined) throw new Error('no rated, reviewed and routed task');
    await behindTriggers(db, async (trx) => {
      await sql`UPDATE reviewer_hourly_stats SET reviews = reviews + 9`.execute(trx);
      await sql`UPDATE routing_quality_hourly SET routed = routed + 9`.execute(trx);
    });
    let rated2At = 0;
    let rebuiltAt = 0;
    const rebuilds = db.transaction().execute(async (trx) => {
      const repairs = [
        await rebuildRollup(trx, 'routing_quality_hourly'),
        await rebuildRollup(trx, 'reviewer_hourly_stats'),
      ];
      // A rating written now moves the decision's reward and the reviews' pairs: it waits for the locks.
      const rating = sql`UPDATE agent_performance_scores SET user_rating = ${task.user_rating === 2 ? 4 : 2}
        WHERE task_id = ${task.task_id}`
        .execute(db)
        .then(() => {
          rated2At = performance.now();
        });
      await new Promise((resolve) => setTimeout(resolve, 300));
      rebuiltAt = performance.now();
      return { repairs, rating };
    });
    const { repairs, rating } = await rebuilds;
    await rating;
    expect(repairs.map((repair) => repair.rowsChanged).every((changed) => changed > 0)).toBe(true);
    expect(rated2At).toBeGreaterThan(rebuiltAt);
    expect(await findAllDrift(db)).toEqual(NO_DRIFT);
  });

  it('keeps the node days retention touched and rebuilds only the later ones', async () => {
    const db = app.ctx.db;
    const cutoff = new Date(TODAY - 4 * DAY);
    const nodeDays = sql`SELECT project_id, agent_id, user_id, day::text AS day, node_name, runs, successful_runs,
        timed_runs, sum_duration_ms, metered_runs, sum_total_tokens
      FROM agent_node_daily_stats ORDER BY agent_id, user_id, day, node_name`;
    const kept = (await nodeDays.execute(db)).rows;
    expect(await rollUpOldTasks(db, cutoff, 10_000)).toBeGreaterThan(0);
    const horizon = await sql<{ day: string }>`SELECT max(day)::text AS day FROM task_daily_rollups`.execute(
      db,
    );
    const lastRetained = horizon.rows[0]?.day ?? '';
    expect(lastRetained).toBe(new Date(cutoff.getTime() - DAY).toISOString().slice(0, 10));
    // The days retention deleted nodes of differ from their rows (the rollup keeps the deleted nodes),
    // which the rollup's drift finder leaves alone: those days are not the rebuild's.
    const allDays = await findAllNodeDayDrift(db);
    expect(allDays.length).toBeGreaterThan(0);
    expect(allDays.every((row) => (row.key.day ?? '') <= lastRetained)).toBe(true);
    expect(await findRollupDrift(db, 'agent_node_daily_stats')).toEqual([]);
    // A retained day's row and a later day's row damaged: only the later one is the rebuild's to repair.
    const retainedRow = await sql<{ agent_id: string; day: string; node_name: string; user_id: string }>`
      SELECT agent_id, day::text AS day, node_name, user_id FROM agent_node_daily_stats
      WHERE day <= ${lastRetained}::date ORDER BY day, agent_id, node_name, user_id LIMIT 1`.execute(db);
    const laterRow = await sql<{ agent_id: string; day: string; node_name: string; user_id: string }>`
      SELECT agent_id, day::text AS day, node_name, user_id FROM agent_node_daily_stats
      WHERE day > ${lastRetained}::date ORDER BY day, agent_id, node_name, user_id LIMIT 1`.execute(db);
    const retained = retainedRow.rows[0];
    const later = laterRow.rows[0];
    if (retained === undefined || later === undefined) throw new Error('no node days on both sides');
    await behindTriggers(db, async (trx) => {
      for (const row of [retained, later])
        await sql`UPDATE agent_node_daily_stats SET runs = runs + 100
          WHERE agent_id = ${row.agent_id} AND day = ${row.day}::date AND node_name = ${row.node_name}
            AND user_id = ${row.user_id}`.execute(trx);
    });
    const drift = await findRollupDrift(db, 'agent_node_daily_stats');
    expect(drift.map((row) => row.key.day)).toEqual([later.day]);
    const result = await runStatsRecompute(db);
    expect(result.rollups.find((rebuild) => rebuild.rollup === 'agent_node_daily_stats')?.rowsChanged).toBe(
      1,
    );
    expect(await findRollupDrift(db, 'agent_node_daily_stats')).toEqual([]);
    // Every row is as before retention but the retained day's damaged one, kept as it was.
    const after = (await nodeDays.execute(db)).rows as Record<string, unknown>[];
    const isRetained = (row: Record<string, unknown>) =>
      row.agent_id === retained.agent_id &&
      row.day === retained.day &&
      row.node_name === retained.node_name &&
      row.user_id === retained.user_id;
    expect(after.filter((row) => !isRetained(row))).toEqual(
      (kept as Record<string, unknown>[]).filter((row) => !isRetained(row)),
    );
    const keptRuns = Number((kept as Record<string, unknown>[]).find(isRetained)?.runs);
    expect(Number(after.find(isRetained)?.runs)).toBe(keptRuns + 100);
  });
});
