/**
 * Efficiency score (0-1): the seed's "tokens x duration", compared against the objective category's
 * typical values. Work is measured on a log scale, x = ln(tokens) + ln(duration_ms) (the log of the
 * product), and scored with a logistic curve centred on the category's median:
 *
 *   efficiency = 1 / (1 + exp((x - median) / scale)),   scale = max(1.4826 * MAD, 0.25)
 *
 * so a task at the category's median scores 0.5, cheaper and faster tasks approach 1, and costlier ones
 * approach 0. Median and MAD (median absolute deviation) are robust: one outlier cannot move the scale.
 * With few samples, the baseline is blended with the category template's typical tokens and duration.
 */

export interface EfficiencyBaseline {
  /** Median of ln(tokens) + ln(duration_ms) in the category. */
  readonly median: number;
  /** Robust spread of the same, on the log scale. */
  readonly scale: number;
  readonly sampleSize: number;
}

/** Samples needed before the category's own history outweighs its template's typical values. */
export const BASELINE_PRIOR_WEIGHT = 20;
export const MIN_SCALE = 0.25;
const PRIOR_SCALE = 1;

export function computeLogWork(totalTokens: number, durationMs: number): number {
  return Math.log(Math.max(totalTokens, 1)) + Math.log(Math.max(durationMs, 1));
}

export function buildPriorBaseline(typicalTokens: number, typicalDurationMs: number): EfficiencyBaseline {
  return { median: computeLogWork(typicalTokens, typicalDurationMs), scale: PRIOR_SCALE, sampleSize: 0 };
}

export function computeMedian(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Fits the category's baseline from recent log-work values, shrunk toward the template's prior. */
export function fitBaseline(logWorks: readonly number[], prior: EfficiencyBaseline): EfficiencyBaseline {
  if (logWorks.length === 0) return prior;
  const median = computeMedian(logWorks);
  const mad = computeMedian(logWorks.map((value) => Math.abs(value - median)));
  const empiricalScale = Math.max(1.4826 * mad, MIN_SCALE);
  const weight = logWorks.length / (logWorks.length + BASELINE_PRIOR_WEIGHT);
  return {
    median: weight * median + (1 - weight) * prior.median,
    scale: weight * empiricalScale + (1 - weight) * prior.scale,
    sampleSize: logWorks.length,
  };
}

/**
 * Scores one task. Unknown tokens (a provider that reported no usage) give no efficiency score: the
 * work cannot be measured, and guessing would reward whoever hides usage. A missing duration is taken
 * at the category's typical value.
 */
export function computeEfficiencyScore(
  work: { totalTokens: number | null; durationMs: number | null },
  baseline: EfficiencyBaseline,
  typical: { tokens: number; durationMs: number },
): number | null {
  if (work.totalTokens === null) return null;
  const x = computeLogWork(work.totalTokens, work.durationMs ?? typical.durationMs);
  const score = 1 / (1 + Math.exp((x - baseline.median) / Math.max(baseline.scale, MIN_SCALE)));
  return Math.round(score * 100) / 100;
}
