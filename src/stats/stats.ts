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
  /**
   * The task's reward as its score row stores it (`agent_performance_scores.reward`, the blend of rating,
   * judge and peer scores to 3 decimals; see storedReward); null while none is known. A failed task's
   * reward counts as 0 whatever this says.
   */
  reward: number | null;
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
  /** The router's sums: finished tasks with a reward (failures count, worth 0), their rewards and squares. */
  rewarded: number;
  sumReward: number;
  sumSqReward: number;
  /** Completed tasks whose reward is not known yet. */
  unscored: number;
  /** Completed tasks with a known cost (and that cost), with a known duration (and that duration). */
  completedPriced: number;
  completedCost: number;
  completedTimed: number;
  completedDurationMs: number;
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
  reward: null,
  finishedAt: null,
};

/** The numeric fields of a StatsDelta (all but `ratingCounts` and `at`), for generic sums and checks. */
const SCALAR_FIELDS = [
  'tasks',
  'successful',
  'failed',
  'scored',
  'sumOverall',
  'sumSqOverall',
  'rated',
  'sumRating',
  'tokens',
  'cost',
  'metered',
  'priced',
  'durationMs',
  'rewardPoints',
  'rewarded',
  'sumReward',
  'sumSqReward',
  'unscored',
  'completedPriced',
  'completedCost',
  'completedTimed',
  'completedDurationMs',
] as const satisfies readonly (keyof StatsDelta)[];

function toSums(c: TaskContribution): Omit<StatsDelta, 'at'> {
  const finished = c.status === 'completed' || c.status === 'failed';
  const completed = c.status === 'completed';
  // A failure is worth 0 to the router; a completed task is worth its reward once one is known.
  const reward = c.status === 'failed' ? 0 : completed ? c.reward : null;
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
    rewarded: reward === null ? 0 : 1,
    sumReward: reward ?? 0,
    sumSqReward: (reward ?? 0) ** 2,
    unscored: completed && c.reward === null ? 1 : 0,
    completedPriced: completed && c.estimatedCost !== null ? 1 : 0,
    completedCost: completed ? (c.estimatedCost ?? 0) : 0,
    completedTimed: completed && c.durationMs !== null ? 1 : 0,
    completedDurationMs: completed ? (c.durationMs ?? 0) : 0,
  };
}

/** The change to apply when a task's contribution goes from `before` to `after`. */
export function diffContributions(before: TaskContribution, after: TaskContribution): StatsDelta {
  const a = toSums(after);
  const b = toSums(before);
  const delta = {
    ratingCounts: a.ratingCounts.map(
      (count, i) => count - (b.ratingCounts[i] as number),
    ) as StatsDelta['ratingCounts'],
    at: after.finishedAt,
  } as StatsDelta;
  for (const field of SCALAR_FIELDS) delta[field] = a[field] - b[field];
  return delta;
}

export function isEmptyDelta(d: StatsDelta): boolean {
  return SCALAR_FIELDS.every((field) => d[field] === 0) && d.ratingCounts.every((count) => count === 0);
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
