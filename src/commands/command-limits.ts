import type { AppContext } from '../app-context.js';
import type { Principal } from '../identity/principal.js';
import {
  checkRateLimit,
  enforceRateLimit,
  RATE_LIMIT_WINDOW_SECONDS,
  RateLimitedError,
  rateLimitBuckets,
} from '../identity/rate-limits.js';

/**
 * A command runs an agent (an Arena comparison runs two: `commands` counts them), and with an LLM costs
 * money: commands per minute per user, and (with an LLM) the project's LLM spend of the UTC day, both
 * counted in PostgreSQL; 429 with Retry-After beyond them.
 */
export async function enforceCommandLimits(
  ctx: AppContext,
  principal: Principal,
  commands: number,
): Promise<void> {
  await enforceRateLimit(ctx.db, {
    bucket: rateLimitBuckets.userCommands(principal.projectId, principal.userId),
    windowSeconds: RATE_LIMIT_WINDOW_SECONDS.commands,
    limit: principal.rateLimits.commandsPerMinute,
    amount: commands,
    name: 'commands per minute',
  });
  const spendLimit = principal.rateLimits.llmSpendPerDayUsd;
  if (ctx.config.llm === undefined || !Number.isFinite(spendLimit)) return;
  const spent = await checkRateLimit(ctx.db, {
    bucket: rateLimitBuckets.projectLlmSpend(principal.projectId),
    windowSeconds: RATE_LIMIT_WINDOW_SECONDS.llmSpend,
    limit: spendLimit,
  });
  if (!spent.allowed) {
    throw new RateLimitedError(
      `The project has spent its LLM budget for today (${spent.used.toFixed(4)} of ${spendLimit} USD); try again later`,
      { retryAfterSeconds: spent.retryAfterSeconds },
    );
  }
}
