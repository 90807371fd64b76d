/**
 * "Why this agent?": one table of every agent the router weighed, built once from a decision, and the
 * sentence rendered from that table's numbers only. The API returns both, the decision stores both, and
 * Mission Control draws the table from the same rows, so the sentence and the table cannot disagree.
 */
import {
  compareByExpectedScore,
  type Decision,
  type DecisionReason,
  QUALITY_OBJECTIVE,
  type RoutingObjective,
} from './router.js';
import { type EvaluationView, toEvaluationView } from './routing.js';

/** One agent's line in the explanation table (rounded as stored and served). */
export interface CandidateRow extends EvaluationView {
  chosen: boolean;
}

/** What the sentence is rendered from: the table plus the decision's rule, category and limits. */
export interface ExplanationInput {
  reason: DecisionReason;
  category: string;
  maxCost: number | null;
  maxDurationMs: number | null;
  /** Defaults to `quality`. */
  objective?: RoutingObjective;
  candidates: readonly CandidateRow[];
}

export interface DecisionExplanation {
  /** Every agent weighed, eligible ones by expected score first, then excluded ones. */
  candidates: CandidateRow[];
  sentence: string;
}

/** How the sentence writes a 0-1 figure; Mission Control's table writes the same two decimals. */
export function formatRoutingScore(value: number): string {
  return value.toFixed(2);
}

/** The table: the chosen agent and the runners-up in `compareByExpectedScore` order, rounded once. */
export function buildCandidateTable(decision: Decision): CandidateRow[] {
  const {
    runnersUp: _runnersUp,
    constraints: _constraints,
    reason: _reason,
    category: _category,
    objective: _objective,
    ...chosen
  } = decision;
  return [chosen, ...decision.runnersUp].sort(compareByExpectedScore).map((evaluation) => ({
    ...toEvaluationView(evaluation),
    chosen: evaluation.agentId === decision.agentId,
  }));
}

function describeLimits(input: ExplanationInput): string {
  const limits = [
    input.maxCost !== null ? `cost ≤ $${input.maxCost}` : null,
    input.maxDurationMs !== null ? `duration ≤ ${Math.round(input.maxDurationMs / 1000)} s` : null,
  ].filter((limit) => limit !== null);
  return limits.join(' and ');
}

function describeEvidence(row: CandidateRow, category: string): string {
  if (row.observations > 0) return `${row.observations} rated ${category} tasks`;
  if (row.specialist) return `no ${category} tasks rated yet; it declares ${category}`;
  return `no ${category} tasks rated yet, so it gets a chance to prove itself`;
}

/** A dollar figure with three significant digits ($0.00213, $1.5). */
export function formatUsd(value: number): string {
  return `$${Number(value.toPrecision(3))}`;
}

/** "$0.002 per task", or how an unknown cost was charged. */
function describeCost(row: CandidateRow): string {
  if (row.expected_cost !== null) return `${formatUsd(row.expected_cost)} per task`;
  if (row.charged_cost !== null) return `an unknown cost (charged as ${formatUsd(row.charged_cost)})`;
  return 'an unknown cost';
}

/** "4x the cost ($0.008 per task)", or the other agent's cost alone when a ratio means nothing. */
function describeCostRatio(rival: CandidateRow, chosen: CandidateRow): string {
  const ratio =
    rival.charged_cost !== null && chosen.charged_cost !== null && chosen.charged_cost > 0
      ? rival.charged_cost / chosen.charged_cost
      : null;
  if (ratio === null) return `at ${describeCost(rival)}`;
  return `for ${Number(ratio.toPrecision(2))}x the cost (${describeCost(rival)})`;
}

function formatGain(value: number): string {
  return `${value >= 0 ? '+' : '-'}${formatRoutingScore(Math.abs(value))}`;
}

/** Compares two dollar figures in words, as written ("less than", "more than", "as much as"). */
function compareInWords(left: number, right: number): string {
  const [a, b] = [formatUsd(left), formatUsd(right)];
  if (a === b) return 'as much as';
  return left < right ? 'less than' : 'more than';
}

/** The eligible agent other than the chosen one with the highest expected score, if any. */
function findBestRival(input: ExplanationInput): CandidateRow | undefined {
  return input.candidates.find((row) => !row.chosen && row.excluded_because === null);
}

function renderValueExplanation(
  input: ExplanationInput,
  chosen: CandidateRow,
  usdPerQuality: number,
): string {
  const name = chosen.nickname;
  const opening =
    `Objective value at ${formatUsd(usdPerQuality)} per quality point: chose ${name}, expected ` +
    `${formatRoutingScore(chosen.expected_score)} on ${input.category} at ${describeCost(chosen)}`;
  const rival = findBestRival(input);
  if (rival === undefined) return `${opening}.`;
  const gain =
    Number(formatRoutingScore(rival.expected_score)) - Number(formatRoutingScore(chosen.expected_score));
  const extra = (rival.charged_cost ?? 0) - (chosen.charged_cost ?? 0);
  const worth = Math.abs(gain) * usdPerQuality;
  const trade =
    gain > 0
      ? `; ${rival.nickname} would give ${formatGain(gain)} ${describeCostRatio(rival, chosen)}, ` +
        `worth ${formatUsd(worth)} at that price, ${compareInWords(worth, extra)} the ${formatUsd(Math.abs(extra))} ${extra >= 0 ? 'more' : 'less'} it costs`
      : `; no other agent is expected to score higher (next, ${rival.nickname}: ` +
        `${formatRoutingScore(rival.expected_score)} at ${describeCost(rival)})`;
  const expectedValue = (row: CandidateRow) => row.expected_score - (row.charged_cost ?? 0) / usdPerQuality;
  const bestByMean = input.candidates
    .filter((row) => row.excluded_because === null)
    .reduce((best, row) => (expectedValue(row) > expectedValue(best) ? row : best), chosen);
  if (bestByMean === chosen) return `${opening}${trade}.`;
  return (
    `${opening}${trade}. ${bestByMean.nickname} is the better value on average, but ${name}'s draw was ` +
    'higher, so the router is trying it to learn more.'
  );
}

function renderTargetExplanation(
  input: ExplanationInput,
  chosen: CandidateRow,
  objective: Extract<RoutingObjective, { kind: 'cheapest_meeting' }>,
): string {
  const name = chosen.nickname;
  const target = formatRoutingScore(objective.targetQuality);
  const needed = formatRoutingScore(objective.minProbability);
  const probability = formatRoutingScore(chosen.target_probability ?? 0);
  const figures = `expected ${formatRoutingScore(chosen.expected_score)} at ${describeCost(chosen)}`;
  if (input.reason === 'target_unmet') {
    return (
      `No agent reaches ${target} on ${input.category} with probability ${needed}; chose the likeliest, ` +
      `${name} (probability ${probability}), ${figures}.`
    );
  }
  const opening =
    `Objective cheapest meeting ${target} (probability ≥ ${needed}): chose ${name}, the cheapest agent ` +
    `likely to reach ${target} on ${input.category} (probability ${probability}), ${figures}`;
  const rival = findBestRival(input);
  if (rival === undefined) return `${opening}.`;
  const gain =
    Number(formatRoutingScore(rival.expected_score)) - Number(formatRoutingScore(chosen.expected_score));
  if (gain <= 0) return `${opening}; no other agent is expected to score higher.`;
  return `${opening}; ${rival.nickname} would give ${formatGain(gain)} ${describeCostRatio(rival, chosen)}.`;
}

/** A short sentence answering "why this agent?", using only the numbers of `input.candidates`. */
export function renderExplanation(input: ExplanationInput): string {
  const chosen = input.candidates.find((row) => row.chosen);
  if (chosen === undefined) throw new Error('an explanation table needs its chosen agent');
  const name = chosen.nickname;
  const objective = input.objective ?? QUALITY_OBJECTIVE;
  if (input.reason === 'mention') return `${name} was mentioned explicitly, so the router did not choose.`;
  if (input.reason === 'fallback_constraints') {
    const cost = chosen.expected_cost === null ? 'unknown cost' : `expected cost $${chosen.expected_cost}`;
    return `No active agent fits ${describeLimits(input)}; chose the cheapest, ${name} (${cost}).`;
  }
  if (objective.kind === 'cheapest_meeting') return renderTargetExplanation(input, chosen, objective);
  if (objective.kind === 'value') return renderValueExplanation(input, chosen, objective.usdPerQuality);
  const expected = formatRoutingScore(chosen.expected_score);
  const range = `${formatRoutingScore(chosen.interval.lower)}-${formatRoutingScore(chosen.interval.upper)}`;
  const opening =
    `${name} is expected to score ${expected} on ${input.category} ` +
    `(90% range ${range}, ${describeEvidence(chosen, input.category)})`;
  const rival = input.candidates.find((row) => !row.chosen && row.excluded_because === null);
  if (rival === undefined) return `${opening}.`;
  const rivalExpected = formatRoutingScore(rival.expected_score);
  // Compared as written, so "higher" never sits beside two equal figures.
  if (Number(rivalExpected) <= Number(expected))
    return `${opening}; next best ${rival.nickname} (${rivalExpected}).`;
  const draws = [chosen.adjusted_score, rival.adjusted_score].map((draw) =>
    draw === null ? 'none' : formatRoutingScore(draw),
  );
  return (
    `${opening}; ${rival.nickname} is expected to score higher (${rivalExpected}), but ${name}'s draw ` +
    `was higher (${draws[0]} against ${draws[1]}), so the router is trying ${name} to learn more.`
  );
}

/** Builds the table once and renders the sentence from it. */
export function explainDecision(decision: Decision): DecisionExplanation {
  const candidates = buildCandidateTable(decision);
  const sentence = renderExplanation({
    reason: decision.reason,
    category: decision.category,
    maxCost: decision.constraints.maxCost,
    maxDurationMs: decision.constraints.maxDurationMs,
    objective: decision.objective,
    candidates,
  });
  return { candidates, sentence };
}
