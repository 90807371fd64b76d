/**
 * Agent statistics as running sums. Every write that changes a task's figures turns the change into a
 * StatsDelta (the new contribution minus the old one) and applies it to the agent's row and the
 * (agent, category) row in the same transaction, so the leaderboard is current the moment the write is
 * acknowledged. The scheduled full recompute rebuilds the same sums from the raw rows.
 */

/** What one task contributes to its agent's statistics. */
export interface TaskContribution {
  status: 'queued' | 'running' | 'completed' | 'failed';
  overallScore: number | null;
  userRating: number | null;
  totalTokens: number | null;
  estimatedCost: number | null;
  durationMs: number | null;
  rewardPoints: number;
  finishedAt: Date | null;
}

export interface StatsDelta {
  tasks: number;
  successful: number;
  failed: number;
  scored: number;
  sumOverall: number;
  sumSqOverall: number;
  rated: number;
  sumRating: number;
  /** Change in the count of ratings of 1..5 stars (index 0 = one star). */
  ratingCounts: [number, number, number, number, number];
  /** Tokens and cost of the tasks that know them; `metered` and `priced` count those tasks. */
  tokens: number;
  cost: number;
  metered: number;
  priced: number;
  durationMs: number;
  rewardPoints: number;
  /** A finish time to widen the agent's first/last task window with, if any. */
  at: Date | null;
}

export const EMPTY_CONTRIBUTION: TaskContribution = {
  status: 'queued',
  overallScore: null,
  userRating: null,
  totalTokens: null,
  estimatedCost: null,
  durationMs: null,
  rewardPoints: 0,
  finishedAt: null,
};

function toSums(c: TaskContribution): Omit<StatsDelta, 'at'> {
  const finished = c.status === 'completed' || c.status === 'failed';
  const ratingCounts: [number, number, number, number, number] = [0, 0, 0, 0, 0];
  if (c.userRating !== null) ratingCounts[c.userRating - 1] = 1;
  return {
    tasks: finished ? 1 : 0,
    successful: c.status === 'completed' ? 1 : 0,
    failed: c.status === 'failed' ? 1 : 0,
    scored: c.overallScore === null ? 0 : 1,
    sumOverall: c.overallScore ?? 0,
    sumSqOverall: (c.overallScore ?? 0) ** 2,
    rated: c.userRating === null ? 0 : 1,
    sumRating: c.userRating ?? 0,
    ratingCounts,
    // Unknown tokens or cost add nothing to the sums, and the task is not counted as metered or priced.
    tokens: finished ? (c.totalTokens ?? 0) : 0,
    cost: finished ? (c.estimatedCost ?? 0) : 0,
    metered: finished && c.totalTokens !== null ? 1 : 0,
    priced: finished && c.estimatedCost !== null ? 1 : 0,
    durationMs: finished ? (c.durationMs ?? 0) : 0,
    rewardPoints: c.rewardPoints,
  };
}

/** The change to apply when a task's contribution goes from `before` to `after`. */
export function diffContributions(before: TaskContribution, after: TaskContribution): StatsDelta {
  const a = toSums(after);
  const b = toSums(before);
  return {
    tasks: a.tasks - b.tasks,
    successful: a.successful - b.successful,
    failed: a.failed - b.failed,
    scored: a.scored - b.scored,
    sumOverall: a.sumOverall - b.sumOverall,
    sumSqOverall: a.sumSqOverall - b.sumSqOverall,
    rated: a.rated - b.rated,
    sumRating: a.sumRating - b.sumRating,
    ratingCounts: a.ratingCounts.map(
      (count, i) => count - (b.ratingCounts[i] as number),
    ) as StatsDelta['ratingCounts'],
    tokens: a.tokens - b.tokens,
    cost: a.cost - b.cost,
    metered: a.metered - b.metered,
    priced: a.priced - b.priced,
    durationMs: a.durationMs - b.durationMs,
    rewardPoints: a.rewardPoints - b.rewardPoints,
    at: after.finishedAt,
  };
}

export function isEmptyDelta(d: StatsDelta): boolean {
  return (
    d.tasks === 0 &&
    d.successful === 0 &&
    d.failed === 0 &&
    d.scored === 0 &&
    d.sumOverall === 0 &&
    d.sumSqOverall === 0 &&
    d.rated === 0 &&
    d.sumRating === 0 &&
    d.tokens === 0 &&
    d.cost === 0 &&
    d.metered === 0 &&
    d.priced === 0 &&
    d.durationMs === 0 &&
    d.rewardPoints === 0 &&
    d.ratingCounts.every((count) => count === 0)
  );
}

/** Days between an agent's first and last finished task, both counted (0 with no tasks). */
export function computeDaysActive(first: Date | null, last: Date | null): number {
  if (!first || !last) return 0;
  const day = 24 * 60 * 60 * 1000;
  return (
    Math.floor(
      (Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate()) -
        Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate())) /
        day,
    ) + 1
  );
}
