import type { Kysely } from 'kysely';
import type { Database, ScoreRow, TaskRow } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import { diffContributions } from '../stats/stats.js';
import { applyStatsChanges } from '../stats/stats.queries.js';
import type { ScoringRules } from '../tasks/scoring.js';
import { describeContribution } from '../tasks/tasks.js';
import { findScoreForTask } from '../tasks/tasks.queries.js';
import {
  describeJudgeReliability,
  findJudgedDimensions,
  measureRankAgreement,
  toMeanPairs,
} from './calibration.js';
import { findEvaluationRatingRows } from './calibration.queries.js';
import { rescoreTask, type ScoreChange } from './evaluation.js';
import { findRewardContext, updateScoreFields } from './evaluation.queries.js';
import { type OverallWeights, withReliability } from './scores.js';

/** The overall-score weights and reward rules, as parsed once by loadConfig (Config.evaluation). */
export type RescoreOptions = ScoringRules;

/** Locks a task row (always before its score row, like every writer, so writers cannot deadlock). */
export async function lockTask(trx: Kysely<Database>, taskId: string): Promise<TaskRow | undefined> {
  return trx.selectFrom('tasks').selectAll().where('id', '=', taskId).forUpdate().executeTakeFirst();
}

/**
 * Applies an evaluator's or the peer reviews' figures to a task's score row inside the caller's
 * transaction: new dimensions, overall score, reward rules, and the agent's running-sum statistics
 * (the difference between the task's old and new contribution). When the row holds the LLM judge's
 * dimensions, their weights are multiplied by the judge's reliability factor, computed from the
 * judge's current calibration on the other rated tasks of the task's project (judgeReliabilityFactor)
 * and stored in score_sources.judge_reliability with the figures it came from.
 */
export async function applyScoreChange(
  trx: Kysely<Database>,
  task: TaskRow,
  change: ScoreChange,
  options: RescoreOptions,
): Promise<ScoreRow> {
  const before = await findScoreForTask(trx, task.id, { forUpdate: true });
  if (!before) throw new NotFoundError('task_not_found', `Task ${task.id} has no performance record`);
  const weighed = await weighJudge(trx, task, before, change, options);
  const context = await findRewardContext(trx, task, options.rewards.consistency.streak);
  const after = await updateScoreFields(
    trx,
    before.id,
    rescoreTask(before, weighed.change, context, { ...options, weights: weighed.weights }),
  );
  await applyStatsChanges(trx, [
    {
      projectId: task.project_id,
      userId: task.user_id,
      agentId: task.agent_id,
      category: task.objective_category,
      delta: diffContributions(describeContribution(task, before), describeContribution(task, after)),
    },
  ]);
  return after;
}

async function weighJudge(
  trx: Kysely<Database>,
  task: TaskRow,
  before: ScoreRow,
  change: ScoreChange,
  options: RescoreOptions,
): Promise<{ change: ScoreChange; weights: OverallWeights }> {
  const judged = findJudgedDimensions(before, change);
  if (judged.length === 0) return { change, weights: options.weights };
  // The project's other tasks: a task's own rating never sets the weight of its own judge scores.
  const rows = await findEvaluationRatingRows(trx, task.project_id, 'judge', { excludeTaskId: task.id });
  const reliability = describeJudgeReliability(measureRankAgreement(toMeanPairs(rows)));
  return {
    change: { ...change, sources: { ...change.sources, judge_reliability: reliability } },
    weights: withReliability(options.weights, judged, reliability.factor),
  };
}
