/**
 * "Why this agent?": one table of every agent the router weighed, built once from a decision, and the
 * sentence rendered from that table's numbers only. The API returns both, the decision stores both, and
 * Mission Control draws the table from the same rows, so the sentence and the table cannot disagree.
 */
import { compareByExpectedScore, type Decision, type DecisionReason } from './router.js';
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

/** A short sentence answering "why this agent?", using only the numbers of `input.candidates`. */
export function renderExplanation(input: ExplanationInput): string {
  const chosen = input.candidates.find((row) => row.chosen);
  if (chosen === undefined) throw new Error('an explanation table needs its chosen agent');
  const name = chosen.nickname;
  if (input.reason === 'mention') return `${name} was mentioned explicitly, so the router did not choose.`;
  if (input.reason === 'fallback_constraints') {
    const cost = chosen.expected_cost === null ? 'unknown cost' : `expected cost $${chosen.expected_cost}`;
    return `No active agent fits ${describeLimits(input)}; chose the cheapest, ${name} (${cost}).`;
  }
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
    candidates,
  });
  return { candidates, sentence };
}
