import { endUserId } from '../identity/end-user.js';
import type { Scope } from '../identity/scope.js';
import { toDeltaRecord } from '../stats/stats.queries.js';
import type { Classification } from './execution-tracker.js';
import {
  computeFinishedContribution,
  type EfficiencyReference,
  type ScoringRules,
  scoreFinishedTask,
} from './scoring.js';
import type { FinishedTaskInput } from './task-schemas.js';
import { resolveUsage } from './tasks.js';
import type { FinishedTaskRecord } from './tasks.queries.js';

export interface FinishedRecordContext {
  scope: Pick<Scope, 'projectId' | 'userId'>;
  classification: Classification;
  /** The completion time of a task that gives none. */
  now: Date;
  source?: 'api' | 'batch' | 'demo' | undefined;
  simulated?: boolean | undefined;
}

/**
 * A task that finished elsewhere, as the one INSERT statement of the batch path takes it: the task row,
 * its score (scoreFinishedTask, against `reference` when it completed) and its agent's statistics delta.
 */
export function buildFinishedTaskRecord(
  input: FinishedTaskInput,
  context: FinishedRecordContext,
  reference: EfficiencyReference | undefined,
  rules: ScoringRules,
): FinishedTaskRecord {
  const { scope, classification } = context;
  const usage = resolveUsage(input, null);
  const completedAt = input.completed_at ? new Date(input.completed_at) : context.now;
  // A started_at a little ahead of the default completion time (clock skew) starts it, at the latest.
  const startedAt = input.started_at
    ? new Date(Math.min(new Date(input.started_at).getTime(), completedAt.getTime()))
    : new Date(completedAt.getTime() - (input.duration_ms ?? 0));
  const durationMs = input.duration_ms ?? Math.max(0, completedAt.getTime() - startedAt.getTime());
  const completed = input.status === 'completed';
  const score = scoreFinishedTask(
    {
      status: input.status,
      totalTokens: usage.totalTokens,
      durationMs,
      userRating: input.user_rating ?? null,
    },
    reference,
    rules,
  );
  const delta = computeFinishedContribution(
    {
      status: input.status,
      total_tokens: usage.totalTokens,
      estimated_cost: usage.estimatedCost,
      duration_ms: durationMs,
      completed_at: completedAt,
    },
    score,
  );
  const {
    agent_id: _agent,
    category: _category,
    project_id: _project,
    ...deltaColumns
  } = toDeltaRecord(scope.projectId, input.agent_id, classification.category, delta);
  return {
    id: input.id ?? crypto.randomUUID(),
    project_id: scope.projectId,
    // A key names the end user of each task it reports (src/identity/end-user.ts); else the caller's user.
    user_id: endUserId(scope.projectId, input.user_id) ?? scope.userId,
    agent_id: input.agent_id,
    command: input.command,
    objective_category: classification.category,
    category_confidence: classification.confidence,
    category_source: classification.source,
    status: input.status,
    result: completed ? (input.result ?? '') : null,
    error: completed ? null : (input.error ?? null),
    model: usage.model,
    simulated: context.simulated ?? false,
    source: context.source ?? 'batch',
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    estimated_cost: usage.estimatedCost,
    duration_ms: durationMs,
    created_at: startedAt.toISOString(),
    started_at: startedAt.toISOString(),
    completed_at: completedAt.toISOString(),
    reward_points: score.rewardPoints,
    reward_rules: score.rewardRules,
    efficiency_score: score.efficiencyScore,
    overall_score: score.overallScore,
    user_rating: score.userRating,
    user_feedback: score.userRating === null ? null : (input.user_feedback ?? null),
    score_sources: score.sources,
    ...deltaColumns,
  };
}
