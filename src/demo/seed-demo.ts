import { type Kysely, sql } from 'kysely';
import { DEFAULT_ROSTER } from '../agents/roster.js';
import { SIMULATED_MODEL, simulateRun } from '../agents/simulated-team.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { type EvaluationDeps, evaluateTask } from '../evaluation/evaluation.jobs.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../evaluation/scores.js';
import { DEFAULT_PROJECT_ID } from '../identity/scope.js';
import { createProgress } from '../lib/progress.js';
import { createRng, sampleNormal } from '../lib/random.js';
import { DEFAULT_REVIEWERS } from '../reviews/peer-review.js';
import { reviewTask } from '../reviews/review.jobs.js';
import { DEFAULT_REWARD_CONFIG } from '../rewards/reward-rules.js';
import { DEFAULT_CATEGORY_TEMPLATES } from '../routing/classifier.js';
import { ExecutionTracker } from '../tasks/execution-tracker.js';
import type { FinishedTaskInput } from '../tasks/task-schemas.js';

export interface SeedDemoOptions {
  tasks: number;
  days: number;
  seed: number;
  userId: string;
  /** The project seeded; the default project when absent. */
  projectId?: string;
  progress: 'bar' | 'lines' | 'silent';
  /** Share of tasks the user rated. */
  ratedShare?: number;
  batchSize?: number;
  now?: Date;
  /** Overall-score weights, reward rules and reviewers as configured (MERIT_OVERALL_WEIGHTS, MERIT_REWARD_RULES, MERIT_REVIEWERS); defaults when absent. */
  evaluation?: Pick<Config['evaluation'], 'weights' | 'rewards' | 'peerReviewers'>;
}

export interface SeedDemoSummary {
  tasks: number;
  failed: number;
  rated: number;
  nodes: number;
  /** Completed tasks evaluated and peer-reviewed (offline), so their scores and rewards are complete. */
  evaluated: number;
  days: number;
  elapsedMs: number;
}

// Each evaluation runs once, inline: there is no job to retry it.
const SINGLE_ATTEMPT = { attempts: 1, maxAttempts: 1 };

const WORKERS = DEFAULT_ROSTER.filter((agent) => !agent.isOrchestrator);

/**
 * Fills a realistic, simulated history through the batch API: commands from every category's example
 * commands, sent mostly to the agents that specialise in them, spread over the last `days` days (more
 * on weekdays), with node steps, failures and the user's ratings (which follow hidden quality, noisily).
 * Every completed task is then evaluated and peer-reviewed by the offline evaluators, through the same
 * functions as the background jobs, so its overall score and reward points are those of any other task.
 */
export async function seedDemo(db: Kysely<Database>, options: SeedDemoOptions): Promise<SeedDemoSummary> {
  const started = Date.now();
  const random = createRng(options.seed);
  const settings = options.evaluation;
  const scoring = {
    weights: settings?.weights ?? DEFAULT_OVERALL_WEIGHTS,
    rewards: settings?.rewards ?? DEFAULT_REWARD_CONFIG,
  };
  const tracker = new ExecutionTracker(db, { scoring });
  // No provider: the offline evaluator and offline reviews score simulated work, whatever LLM is configured.
  const evaluation: EvaluationDeps = {
    db,
    provider: undefined,
    ...scoring,
    reviewers: settings?.peerReviewers ?? DEFAULT_REVIEWERS,
    ratePerMinute: 0,
  };
  const progress = createProgress('Seeding demo history', options.tasks, options.progress);
  const batchSize = options.batchSize ?? 500;
  const now = (options.now ?? new Date()).getTime();
  const summary: SeedDemoSummary = {
    tasks: 0,
    failed: 0,
    rated: 0,
    nodes: 0,
    evaluated: 0,
    days: options.days,
    elapsedMs: 0,
  };
  const templates = DEFAULT_CATEGORY_TEMPLATES.filter((template) => template.example_commands.length > 0);

  for (let offset = 0; offset < options.tasks; offset += batchSize) {
    const batch: FinishedTaskInput[] = [];
    for (let i = offset; i < Math.min(options.tasks, offset + batchSize); i++) {
      const template = templates[Math.floor(random() * templates.length)] as (typeof templates)[number];
      const specialists = WORKERS.filter((agent) => agent.specializations.includes(template.category));
      const pool = specialists.length > 0 && random() < 0.7 ? specialists : WORKERS;
      const agent = pool[Math.floor(random() * pool.length)] as (typeof WORKERS)[number];
      const example = template.example_commands[
        Math.floor(random() * template.example_commands.length)
      ] as string;
      const command = `@${agent.nickname} ${example}`;
      const run = simulateRun({
        agent,
        command,
        category: template.category,
        seed: options.seed,
        runKey: String(i),
      });
      const completedAt = now - pickAge(random, options.days, now);
      const rated = run.success && random() < (options.ratedShare ?? 0.4);
      const rating = Math.min(5, Math.max(1, Math.round(1 + 4 * run.quality + sampleNormal(random) * 0.6)));
      batch.push({
        agent_id: agent.agentId,
        command,
        objective_category: template.category,
        status: run.success ? 'completed' : 'failed',
        ...(run.success ? { result: run.result } : { error: run.error as string }),
        model: SIMULATED_MODEL,
        prompt_tokens: run.prompt_tokens,
        completion_tokens: run.completion_tokens,
        duration_ms: run.duration_ms,
        completed_at: new Date(completedAt).toISOString(),
        nodes: run.nodes.map((node) => ({ ...node, success: true })),
        ...(rated ? { user_rating: rating } : {}),
      });
      summary.failed += run.success ? 0 : 1;
      summary.rated += rated ? 1 : 0;
      summary.nodes += run.nodes.length;
    }
    const scope = {
      projectId: options.projectId ?? DEFAULT_PROJECT_ID,
      userId: options.userId,
      ownTasksOnly: false,
    };
    const result = await tracker.recordFinishedTasks(scope, batch, {
      source: 'demo',
      simulated: true,
    });
    summary.tasks += result.accepted;
    await evaluateBatch(db, evaluation, batch, result.task_ids, (done) => {
      summary.evaluated += 1;
      progress.update(offset + done, 'evaluating');
    });
    progress.update(Math.min(options.tasks, offset + batchSize));
  }
  progress.finish();
  summary.elapsedMs = Date.now() - started;
  return summary;
}

/**
 * Evaluates and peer-reviews a recorded batch's completed tasks one after the other (reward rules look
 * at the agent's earlier scores), on one connection. `onEvaluated` gets the batch position done.
 */
async function evaluateBatch(
  db: Kysely<Database>,
  evaluation: EvaluationDeps,
  batch: readonly FinishedTaskInput[],
  taskIds: readonly string[],
  onEvaluated: (done: number) => void,
): Promise<void> {
  await db.connection().execute(async (connection) => {
    // Demo history is made again by running seed-demo: no commit needs to wait for the disk.
    await sql`SET synchronous_commit = off`.execute(connection);
    try {
      const deps = { ...evaluation, db: connection };
      for (const [index, taskId] of taskIds.entries()) {
        if (batch[index]?.status !== 'completed') continue;
        await evaluateTask(deps, taskId, SINGLE_ATTEMPT);
        await reviewTask(deps, taskId, SINGLE_ATTEMPT);
        onEvaluated(index + 1);
      }
    } finally {
      await sql`RESET synchronous_commit`.execute(connection);
    }
  });
}

/** Milliseconds before now: uniform over the period, with weekends thinned out. */
function pickAge(random: () => number, days: number, now: number): number {
  const day = 24 * 60 * 60 * 1000;
  for (;;) {
    const age = random() * days * day;
    const weekday = new Date(now - age).getUTCDay();
    if ((weekday !== 0 && weekday !== 6) || random() < 0.3) return Math.round(age);
  }
}
