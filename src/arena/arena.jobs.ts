import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import {
  RATE_LIMIT_WINDOW_SECONDS,
  rateLimitBuckets,
  recordRateLimitUsage,
} from '../identity/rate-limits.js';
import type { Scope } from '../identity/scope.js';
import { createConfiguredLlmProvider, type LlmProvider } from '../llm/provider.js';
import { findComparison, insertBattles, JUDGE_COMPARISON_JOB } from './arena.queries.js';
import { areAnswersFinished, JUDGE_FIRST_DELAY_MS } from './arena.service.js';
import { judgePairOffline, judgePairWithLlm, type PairwiseVerdict } from './pairwise-judge.js';

/** How many times the job looks for both answers before it gives up (about two hours in all). */
export const MAX_JUDGE_LOOKS = 30;
const MAX_LOOK_DELAY_MS = 5 * 60_000;

const payloadSchema = z.object({
  project_id: z.guid(),
  comparison_id: z.guid(),
  attempt: z.number().int().min(1).default(1),
});

/** The wait before look `attempt + 1`: doubling from JUDGE_FIRST_DELAY_MS, at most five minutes. */
export function delayBeforeNextLook(attempt: number): number {
  return Math.min(MAX_LOOK_DELAY_MS, JUDGE_FIRST_DELAY_MS * 2 ** Math.min(attempt, 20));
}

/**
 * The Arena's background job: the LLM judge compares a comparison's two answers (pairwise, asked in
 * both orders) once both tasks are finished, and records its verdict as a battle (source `llm_judge`;
 * judge `llm`, or `heuristic` when no LLM is configured). Answers still running: it looks again later.
 */
export function createArenaJobs(
  ctx: Pick<AppContext, 'db' | 'config' | 'log'>,
  options: { provider?: LlmProvider } = {},
): Record<string, Task> {
  const llm = ctx.config.llm;
  const provider = options.provider ?? (llm ? createConfiguredLlmProvider(llm, { log: ctx.log }) : undefined);
  const job: Task = async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`Ignoring a ${JUDGE_COMPARISON_JOB} job with an invalid payload`);
      return;
    }
    const { project_id: projectId, comparison_id: comparisonId, attempt } = parsed.data;
    const scope: Scope = { projectId, userId: '00000000-0000-0000-0000-000000000000', ownTasksOnly: false };
    const comparison = await findComparison(ctx.db, scope, comparisonId);
    if (!comparison) return;
    if (!areAnswersFinished(comparison)) {
      if (attempt >= MAX_JUDGE_LOOKS) {
        ctx.log.warn(
          { comparison_id: comparisonId, looks: attempt },
          'arena judge gave up: the answers did not finish',
        );
        return;
      }
      await helpers.addJob(
        JUDGE_COMPARISON_JOB,
        { project_id: projectId, comparison_id: comparisonId, attempt: attempt + 1 },
        {
          runAt: new Date(Date.now() + delayBeforeNextLook(attempt)),
          jobKey: `${JUDGE_COMPARISON_JOB}:${comparisonId}`,
          maxAttempts: 5,
        },
      );
      return;
    }
    const input = {
      command: comparison.command,
      category: comparison.category,
      answerA: comparison.answer_a.status === 'completed' ? comparison.answer_a.result : null,
      answerB: comparison.answer_b.status === 'completed' ? comparison.answer_b.result : null,
    };
    const verdict: PairwiseVerdict = provider
      ? await judgePairWithLlm(provider, input, helpers.abortSignal ? { signal: helpers.abortSignal } : {})
      : judgePairOffline(input);
    await insertBattles(ctx.db, [
      {
        project_id: projectId,
        agent_a: comparison.agent_a,
        agent_b: comparison.agent_b,
        winner: verdict.winner,
        category: comparison.category,
        judge: verdict.judge,
        source: 'llm_judge',
        anony: true,
        command: comparison.command,
        task_a_id: comparison.task_a_id,
        task_b_id: comparison.task_b_id,
        comparison_id: comparison.id,
        reasoning: verdict.reasoning.slice(0, 4000),
        // One verdict per comparison: a job run again stores nothing more.
        external_key: `judge:${comparison.id}`,
      },
    ]);
    const cost = verdict.usage?.cost ?? null;
    if (cost !== null && cost > 0) {
      await recordRateLimitUsage(ctx.db, {
        bucket: rateLimitBuckets.projectLlmSpend(projectId),
        windowSeconds: RATE_LIMIT_WINDOW_SECONDS.llmSpend,
        amount: cost,
      });
    }
  };
  return { [JUDGE_COMPARISON_JOB]: job };
}
