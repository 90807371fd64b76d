/**
 * Replay of recorded outcomes through the router: a long CSV `prompt,category,agent,score,cost` (one row per
 * prompt and agent) is replayed prompt by prompt; a policy sees only the outcome of the agent it chose, as
 * in production. Sweeping the `value` objective's price of quality traces merit's quality-cost curve,
 * summarised as RouteLLM does: APGR, the average share of the quality gap between always-cheapest and
 * always-best that the policy recovers over the budgets between their costs. Pure: no files, no clock.
 *
 * Terminology: score = one recorded 0-1 quality figure; point = one policy run (mean score, mean cost per
 * prompt); curve = the quality reachable at each budget from a policy's points.
 */
import { createRng } from '../lib/random.js';
import {
  type AgentStats,
  chooseAgent,
  chooseGreedy,
  chooseRandomly,
  type PairStats,
  type RouterOptions,
  type RoutingCandidate,
  type RoutingObjective,
  type RoutingRequest,
} from './router.js';

export interface ReplayOutcome {
  score: number;
  cost: number;
}

export interface ReplayPrompt {
  prompt: string;
  category: string;
  /** Every agent's recorded outcome for this prompt. */
  outcomes: Map<string, ReplayOutcome>;
}

export interface ReplayData {
  agents: string[];
  categories: string[];
  prompts: ReplayPrompt[];
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields may hold commas, quotes and newlines). */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((fields) => !(fields.length === 1 && fields[0] === ''));
}

const HEADER = ['prompt', 'category', 'agent', 'score', 'cost'];

/**
 * Reads the replay CSV: header `prompt,category,agent,score,cost`, score in 0-1, cost in USD (>= 0). Every
 * prompt must have one row per agent of the file, all in one category. Errors name the line.
 */
export function parseReplayCsv(text: string): ReplayData {
  const rows = parseCsvRows(text);
  const header = rows[0]?.map((name) => name.trim().toLowerCase());
  if (header === undefined || header.join(',') !== HEADER.join(','))
    throw new Error(`line 1: the header must be ${HEADER.join(',')}`);
  const prompts = new Map<string, ReplayPrompt>();
  const agents = new Set<string>();
  rows.slice(1).forEach((fields, index) => {
    const line = index + 2;
    if (fields.length !== HEADER.length)
      throw new Error(`line ${line}: expected 5 fields, got ${fields.length}`);
    const [prompt, category, agent, scoreText, costText] = fields.map((field) => field.trim()) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const score = Number(scoreText);
    const cost = Number(costText);
    if (prompt === '' || category === '' || agent === '')
      throw new Error(`line ${line}: prompt, category and agent must not be empty`);
    if (scoreText === '' || !Number.isFinite(score) || score < 0 || score > 1)
      throw new Error(`line ${line}: score must be a number from 0 to 1, got '${scoreText}'`);
    if (costText === '' || !Number.isFinite(cost) || cost < 0)
      throw new Error(`line ${line}: cost must be a number of USD >= 0, got '${costText}'`);
    const entry = prompts.get(prompt) ?? { prompt, category, outcomes: new Map() };
    if (entry.category !== category)
      throw new Error(`line ${line}: prompt '${prompt}' is in ${entry.category} on an earlier line`);
    if (entry.outcomes.has(agent)) throw new Error(`line ${line}: a second row for ${agent} on '${prompt}'`);
    entry.outcomes.set(agent, { score, cost });
    prompts.set(prompt, entry);
    agents.add(agent);
  });
  if (prompts.size === 0) throw new Error('the file has no rows after its header');
  for (const entry of prompts.values()) {
    const missing = [...agents].filter((agent) => !entry.outcomes.has(agent));
    if (missing.length > 0) throw new Error(`prompt '${entry.prompt}' has no row for ${missing.join(', ')}`);
  }
  const list = [...prompts.values()];
  return {
    agents: [...agents].sort(),
    categories: [...new Set(list.map((entry) => entry.category))].sort(),
    prompts: list,
  };
}

/** The prompts in a seeded random order (Fisher-Yates). */
export function shufflePrompts(prompts: readonly ReplayPrompt[], seed: number): ReplayPrompt[] {
  const random = createRng(seed);
  const shuffled = [...prompts];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as ReplayPrompt, shuffled[i] as ReplayPrompt];
  }
  return shuffled;
}

/** One policy run over the file: mean recorded score and mean cost per prompt of the agents it chose. */
export interface ReplayPoint {
  quality: number;
  cost: number;
}

/** A routing rule replayed: it sees the request the router would (statistics of chosen agents only). */
export type ReplayPolicy = (request: RoutingRequest) => string;

/** What the policy has learned: per (agent, category) rewards and costs of the agents it chose. */
class ReplayLedger {
  readonly pairs = new Map<string, PairStats & { costSum: number; costCount: number }>();

  record(agentId: string, category: string, outcome: ReplayOutcome): void {
    const key = `${agentId}\u0000${category}`;
    const pair = this.pairs.get(key) ?? {
      agentId,
      category,
      n: 0,
      rewardSum: 0,
      rewardSquareSum: 0,
      costSum: 0,
      costCount: 0,
    };
    pair.n += 1;
    pair.rewardSum += outcome.score;
    pair.rewardSquareSum = (pair.rewardSquareSum ?? 0) + outcome.score ** 2;
    pair.costSum += outcome.cost;
    pair.costCount += 1;
    pair.meanCost = pair.costSum / pair.costCount;
    this.pairs.set(key, pair);
  }

  pairStats(): PairStats[] {
    return [...this.pairs.values()];
  }

  agentStats(): AgentStats[] {
    const byAgent = new Map<string, AgentStats & { costSum: number; costCount: number }>();
    for (const pair of this.pairs.values()) {
      const agent = byAgent.get(pair.agentId) ?? {
        agentId: pair.agentId,
        n: 0,
        rewardSum: 0,
        rewardSquareSum: 0,
        costSum: 0,
        costCount: 0,
      };
      agent.n += pair.n;
      agent.rewardSum += pair.rewardSum;
      agent.rewardSquareSum = (agent.rewardSquareSum ?? 0) + (pair.rewardSquareSum ?? 0);
      agent.costSum += pair.costSum;
      agent.costCount += pair.costCount;
      agent.meanCost = agent.costSum / agent.costCount;
      byAgent.set(pair.agentId, agent);
    }
    return [...byAgent.values()];
  }
}

/** Replays the prompts in the given order; feedback (score and cost) only for the chosen agent. */
export function replayPolicy(
  data: ReplayData,
  prompts: readonly ReplayPrompt[],
  policy: ReplayPolicy,
  seed: number,
): ReplayPoint {
  const candidates: RoutingCandidate[] = data.agents.map((agentId) => ({
    agentId,
    nickname: agentId,
    active: true,
    load: 0,
  }));
  const ledger = new ReplayLedger();
  const random = createRng(seed);
  let quality = 0;
  let cost = 0;
  for (const entry of prompts) {
    const chosen = policy({
      category: entry.category,
      candidates,
      pairStats: ledger.pairStats(),
      agentStats: ledger.agentStats(),
      random,
    });
    const outcome = entry.outcomes.get(chosen);
    if (outcome === undefined) throw new Error(`the policy chose ${chosen}, who has no row for this prompt`);
    quality += outcome.score;
    cost += outcome.cost;
    ledger.record(chosen, entry.category, outcome);
  }
  return { quality: quality / prompts.length, cost: cost / prompts.length };
}

/** Merit's router under an objective, exactly as production calls it. */
export function meritPolicy(objective: RoutingObjective, options: Partial<RouterOptions> = {}): ReplayPolicy {
  return (request) => chooseAgent({ ...request, objective }, options).agentId;
}

export const greedyPolicy: ReplayPolicy = (request) => chooseGreedy(request).agentId;
export const randomPolicy: ReplayPolicy = (request) => chooseRandomly(request).agentId;

/** Always the same agent. */
export function singleAgentPoint(data: ReplayData, agent: string): ReplayPoint {
  return averageOutcomes(data.prompts.map((entry) => entry.outcomes.get(agent) as ReplayOutcome));
}

function averageOutcomes(outcomes: readonly ReplayOutcome[]): ReplayPoint {
  const quality = outcomes.reduce((sum, outcome) => sum + outcome.score, 0) / outcomes.length;
  const cost = outcomes.reduce((sum, outcome) => sum + outcome.cost, 0) / outcomes.length;
  return { quality, cost };
}

/**
 * The per-category oracle at one price of quality: in each category, the agent whose mean score in the
 * file less its mean cost divided by `usdPerQuality` is highest (Infinity: the best mean score), for every
 * prompt of the category. It knows the file's averages, not each prompt's outcome.
 */
export function categoryOraclePoint(data: ReplayData, usdPerQuality: number): ReplayPoint {
  const chosen = new Map<string, string>();
  for (const category of data.categories) {
    const prompts = data.prompts.filter((entry) => entry.category === category);
    let best: { agent: string; value: number; quality: number } | undefined;
    for (const agent of data.agents) {
      const point = averageOutcomes(prompts.map((entry) => entry.outcomes.get(agent) as ReplayOutcome));
      const value = Number.isFinite(usdPerQuality)
        ? point.quality - point.cost / usdPerQuality
        : point.quality;
      if (best === undefined || value > best.value || (value === best.value && point.quality > best.quality))
        best = { agent, value, quality: point.quality };
    }
    if (best) chosen.set(category, best.agent);
  }
  return averageOutcomes(
    data.prompts.map((entry) => entry.outcomes.get(chosen.get(entry.category) as string) as ReplayOutcome),
  );
}

/** The curve's ends: always the cheapest agent (lowest mean cost) and always the best (highest mean score). */
export interface ReplayAnchors {
  cheapest: ReplayPoint & { agent: string };
  best: ReplayPoint & { agent: string };
}

export function findAnchors(data: ReplayData): ReplayAnchors {
  const points = data.agents.map((agent) => ({ agent, ...singleAgentPoint(data, agent) }));
  const cheapest = [...points].sort(
    (left, right) => left.cost - right.cost || right.quality - left.quality,
  )[0];
  const best = [...points].sort((left, right) => right.quality - left.quality || left.cost - right.cost)[0];
  if (cheapest === undefined || best === undefined) throw new Error('a replay needs at least one agent');
  return { cheapest, best };
}

/**
 * The quality a policy reaches within a budget, from its points: the upper concave envelope of its points
 * and the always-cheapest point (mixing two settings at random reaches any cost in between), flat beyond
 * its dearest point. Monotone non-decreasing in the budget; -Infinity below the cheapest point.
 */
export function buildQualityCurve(
  points: readonly ReplayPoint[],
  cheapest: ReplayPoint,
): (budget: number) => number {
  const sorted = [cheapest, ...points].sort(
    (left, right) => left.cost - right.cost || right.quality - left.quality,
  );
  // Upper hull, then keep only the rising part (a dearer, worse setting is never worth choosing).
  const hull: ReplayPoint[] = [];
  for (const point of sorted) {
    if (hull.length > 0 && point.quality <= (hull[hull.length - 1] as ReplayPoint).quality) continue;
    while (hull.length >= 2) {
      const a = hull[hull.length - 2] as ReplayPoint;
      const b = hull[hull.length - 1] as ReplayPoint;
      const cross =
        (b.cost - a.cost) * (point.quality - a.quality) - (b.quality - a.quality) * (point.cost - a.cost);
      if (cross >= 0) hull.pop();
      else break;
    }
    hull.push(point);
  }
  return (budget) => {
    const first = hull[0] as ReplayPoint;
    if (budget < first.cost) return Number.NEGATIVE_INFINITY;
    for (let i = hull.length - 1; i >= 0; i--) {
      const left = hull[i] as ReplayPoint;
      if (budget < left.cost) continue;
      const right = hull[i + 1];
      if (right === undefined) return left.quality;
      const share = (budget - left.cost) / (right.cost - left.cost);
      return left.quality + share * (right.quality - left.quality);
    }
    return first.quality;
  };
}

/** Share of the quality gap between always-cheapest and always-best, clipped to 0-1. */
export function computeGapShare(quality: number, anchors: ReplayAnchors): number {
  const gap = anchors.best.quality - anchors.cheapest.quality;
  if (gap <= 0) return 1;
  return Math.min(1, Math.max(0, (quality - anchors.cheapest.quality) / gap));
}

export interface CurveSummary {
  /** Mean share of the quality gap recovered over budgets from always-cheapest's to always-best's cost. */
  apgr: number;
  /** The least budget (USD per prompt) at which the curve recovers 50% / 80% of the gap; null if never. */
  costFor50: number | null;
  costFor80: number | null;
}

/**
 * APGR (RouteLLM): the area under the gap-share curve over budgets between the anchors' costs, divided by
 * that range, by the trapezoid rule on `steps` intervals. Always-cheapest scores 0; a policy at the best
 * agent's quality for the cheapest agent's cost scores 1.
 */
export function summarizeCurve(
  points: readonly ReplayPoint[],
  anchors: ReplayAnchors,
  steps = 2000,
): CurveSummary {
  const curve = buildQualityCurve(points, anchors.cheapest);
  const low = anchors.cheapest.cost;
  const high = Math.max(anchors.best.cost, low);
  const share = (budget: number) => {
    const quality = curve(budget);
    return quality === Number.NEGATIVE_INFINITY ? 0 : computeGapShare(quality, anchors);
  };
  let area = 0;
  if (high > low) {
    const width = (high - low) / steps;
    for (let i = 0; i < steps; i++)
      area += ((share(low + i * width) + share(low + (i + 1) * width)) / 2) * width;
    area /= high - low;
  } else area = share(low);
  return {
    apgr: area,
    costFor50: findBudgetFor(curve, anchors, 0.5),
    costFor80: findBudgetFor(curve, anchors, 0.8),
  };
}

/** The least budget whose curve quality recovers `share` of the gap (bisection: the curve is monotone). */
function findBudgetFor(
  curve: (budget: number) => number,
  anchors: ReplayAnchors,
  share: number,
): number | null {
  const target = anchors.cheapest.quality + share * (anchors.best.quality - anchors.cheapest.quality);
  let low = anchors.cheapest.cost;
  let high = low;
  // The curve is flat beyond its dearest point: search up to a generous multiple of always-best's cost.
  const limit = Math.max(anchors.best.cost, low) * 4 + 1e-12;
  while (curve(high) < target && high < limit) high = high === 0 ? 1e-9 : high * 2;
  if (curve(high) < target) return null;
  for (let i = 0; i < 60; i++) {
    const middle = (low + high) / 2;
    if (curve(middle) >= target) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The prices of quality (USD per quality point) a sweep tries: geometric around the exchange rate of the
 * anchors (their cost difference over their quality difference), from 1/64 to 64 times it.
 */
export function buildPriceGrid(anchors: ReplayAnchors, count = 13): number[] {
  const gap = Math.max(anchors.best.quality - anchors.cheapest.quality, 0.01);
  const rate = Math.max(anchors.best.cost - anchors.cheapest.cost, 1e-6) / gap;
  return Array.from({ length: count }, (_, i) => rate * 2 ** (-6 + (12 * i) / (count - 1)));
}
