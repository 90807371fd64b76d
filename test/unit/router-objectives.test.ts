import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createRng } from '../../src/lib/random.js';
import {
  type CandidateRow,
  explainDecision,
  renderExplanation,
} from '../../src/routing/decision-explanation.js';
import {
  type AgentStats,
  chargeUnknownCosts,
  chooseAgent,
  chooseGreedy,
  chooseRandomly,
  computeTargetProbability,
  computeUtility,
  ExternalAgentError,
  type PairStats,
  type RoutingCandidate,
  type RoutingObjective,
  type RoutingRequest,
} from '../../src/routing/router.js';
import { resolveRoutingObjective } from '../../src/routing/routing.js';

const candidate = (agentId: string, extra: Partial<RoutingCandidate> = {}): RoutingCandidate => ({
  agentId,
  nickname: agentId,
  active: true,
  load: 0,
  ...extra,
});

/** Literal research records: n rewards averaging `mean`, at `cost` USD per task (null: never recorded). */
function buildRequest(
  records: Record<string, { n: number; mean: number; cost: number | null }>,
  extra: Partial<RoutingRequest> = {},
): RoutingRequest {
  const pairStats: PairStats[] = Object.entries(records).map(([agentId, record]) => ({
    agentId,
    category: 'research',
    n: record.n,
    rewardSum: record.n * record.mean,
    meanCost: record.cost,
  }));
  const agentStats: AgentStats[] = pairStats.map(({ category: _category, ...stats }) => stats);
  return {
    category: 'research',
    candidates: Object.keys(records).map((agentId) => candidate(agentId)),
    pairStats,
    agentStats,
    random: createRng(7),
    ...extra,
  };
}

/** bob is the best and dearest, kai nearly as good for a tenth, cid cheapest and poor. */
const TEAM = {
  bob: { n: 400, mean: 0.84, cost: 0.02 },
  kai: { n: 400, mean: 0.8, cost: 0.002 },
  cid: { n: 400, mean: 0.4, cost: 0.001 },
};

function route(objective: RoutingObjective, extra: Partial<RoutingRequest> = {}) {
  return chooseAgent(buildRequest(TEAM, { objective, ...extra }));
}

describe('routing objectives on literal posteriors and costs', () => {
  it('quality ignores cost and takes the best agent', () => {
    expect(route({ kind: 'quality' }).agentId).toBe('bob');
  });

  it('value takes the dearer agent only when its extra quality is worth its extra cost', () => {
    // +0.04 quality for $0.018 more: worth it at $10 per quality point ($0.40), not at $0.10 ($0.004).
    expect(route({ kind: 'value', usdPerQuality: 10 }).agentId).toBe('bob');
    expect(route({ kind: 'value', usdPerQuality: 0.1 }).agentId).toBe('kai');
    // At a near-zero price of quality only cost counts.
    expect(route({ kind: 'value', usdPerQuality: 0.0001 }).agentId).toBe('cid');
  });

  it("value compares the draw less the charged cost at the objective's price", () => {
    const decision = route({ kind: 'value', usdPerQuality: 0.5 });
    for (const row of [decision, ...decision.runnersUp]) {
      expect(row.utility).toBeCloseTo((row.adjustedScore ?? 0) - (row.chargedCost ?? 0) / 0.5, 12);
    }
    expect(computeUtility(0.8, 0.02, { kind: 'value', usdPerQuality: 0.5 })).toBeCloseTo(0.76, 12);
    expect(computeUtility(0.8, 0.02, { kind: 'quality' })).toBe(0.8);
    expect(computeUtility(0.8, null, { kind: 'value', usdPerQuality: 0.5 })).toBe(0.8);
  });

  it('cheapest_meeting takes the cheapest agent likely enough to reach the target', () => {
    const decision = route({ kind: 'cheapest_meeting', targetQuality: 0.7, minProbability: 0.8 });
    expect(decision).toMatchObject({ agentId: 'kai', reason: 'cheapest_meeting' });
    expect(decision.targetProbability).toBeGreaterThan(0.99);
    const cid = decision.runnersUp.find((row) => row.agentId === 'cid');
    expect(cid?.targetProbability).toBeLessThan(0.001);
    // A target only bob is likely to reach.
    expect(route({ kind: 'cheapest_meeting', targetQuality: 0.83, minProbability: 0.6 }).agentId).toBe('bob');
  });

  it('cheapest_meeting with an unreachable target takes the agent most likely to reach it', () => {
    const decision = route({ kind: 'cheapest_meeting', targetQuality: 0.95, minProbability: 0.8 });
    expect(decision).toMatchObject({ agentId: 'bob', reason: 'target_unmet' });
  });

  it('keeps max_cost and max_duration_ms hard under every objective', () => {
    const limits = { constraints: { maxCost: 0.01 } };
    expect(route({ kind: 'quality' }, limits).agentId).toBe('kai');
    expect(route({ kind: 'value', usdPerQuality: 100 }, limits).agentId).toBe('kai');
    const target = route({ kind: 'cheapest_meeting', targetQuality: 0.83, minProbability: 0.6 }, limits);
    expect(target.agentId).toBe('kai');
    expect(target.reason).toBe('target_unmet');
    expect(target.constraints.excludedAgentIds).toEqual(['bob']);
  });

  it('computes the posterior probability of reaching a target from the Beta posterior', () => {
    expect(computeTargetProbability(1, 1, 0.3)).toBeCloseTo(0.7, 10);
    expect(computeTargetProbability(2, 2, 0.5)).toBeCloseTo(0.5, 10);
    expect(computeTargetProbability(80, 20, 0.5)).toBeGreaterThan(0.9999);
  });
});

describe('unknown costs', () => {
  it('charges an unknown cost as the highest or the lowest known one, never as free', () => {
    const rows = [
      { expectedCost: 0.01, chargedCost: null },
      { expectedCost: null, chargedCost: null },
      { expectedCost: 0.05, chargedCost: null },
    ];
    expect(chargeUnknownCosts(rows, 'highest').map((row) => row.chargedCost)).toEqual([0.01, 0.05, 0.05]);
    expect(chargeUnknownCosts(rows, 'lowest').map((row) => row.chargedCost)).toEqual([0.01, 0.01, 0.05]);
    const none = chargeUnknownCosts([{ expectedCost: null, chargedCost: null }]);
    expect(none[0]?.chargedCost).toBeNull();
  });

  it('does not prefer an agent as good as another because nobody recorded its cost', () => {
    const request = buildRequest(
      {
        kai: { n: 400, mean: 0.8, cost: 0.002 },
        ann: { n: 400, mean: 0.8, cost: null },
        bob: { n: 400, mean: 0.8, cost: 0.02 },
      },
      { objective: { kind: 'cheapest_meeting', targetQuality: 0.7, minProbability: 0.8 } },
    );
    const decision = chooseAgent(request);
    expect(decision.agentId).toBe('kai');
    const ann = decision.runnersUp.find((row) => row.agentId === 'ann');
    expect(ann).toMatchObject({ expectedCost: null, chargedCost: 0.02 });
  });

  it('value charges an unknown cost as the cheapest known: never free, but tried, so it gets learned', () => {
    const request = buildRequest({
      kai: { n: 400, mean: 0.8, cost: 0.002 },
      ann: { n: 400, mean: 0.8, cost: null },
      bob: { n: 400, mean: 0.8, cost: 0.02 },
    });
    const wins: Record<string, number> = {};
    for (let seed = 0; seed < 60; seed++) {
      const decision = chooseAgent({
        ...request,
        objective: { kind: 'value', usdPerQuality: 0.05 },
        random: createRng(seed),
      });
      wins[decision.agentId] = (wins[decision.agentId] ?? 0) + 1;
      const ann = [decision, ...decision.runnersUp].find((row) => row.agentId === 'ann');
      expect(ann?.chargedCost).toBe(0.002);
    }
    // As good as kai at kai's cost: they share the tasks; bob, as good for ten times the cost, gets none.
    expect(wins.ann).toBeGreaterThan(10);
    expect(wins.kai).toBeGreaterThan(10);
    expect(wins.bob).toBeUndefined();
  });

  it('still routes to an agent of unknown cost when it is the only one likely to reach the target', () => {
    const decision = chooseAgent(
      buildRequest(
        { kai: { n: 400, mean: 0.5, cost: 0.002 }, ann: { n: 400, mean: 0.9, cost: null } },
        { objective: { kind: 'cheapest_meeting', targetQuality: 0.8, minProbability: 0.8 } },
      ),
    );
    expect(decision).toMatchObject({ agentId: 'ann', reason: 'cheapest_meeting', chargedCost: 0.002 });
  });
});

describe('the objective of a decision', () => {
  const stored = {
    objective: 'value' as const,
    usd_per_quality: 2,
    target_quality: 0.7,
    min_probability: null,
  };

  it("uses the project's default, and the request's kind and knobs over it", () => {
    expect(resolveRoutingObjective(undefined)).toEqual({ kind: 'quality' });
    expect(resolveRoutingObjective(stored)).toEqual({ kind: 'value', usdPerQuality: 2 });
    expect(resolveRoutingObjective(stored, { usdPerQuality: 5 })).toEqual({
      kind: 'value',
      usdPerQuality: 5,
    });
    expect(resolveRoutingObjective(stored, { kind: 'quality' })).toEqual({ kind: 'quality' });
    expect(resolveRoutingObjective(stored, { kind: 'cheapest_meeting' })).toEqual({
      kind: 'cheapest_meeting',
      targetQuality: 0.7,
      minProbability: 0.8,
    });
  });

  it('refuses an objective without its knob, naming the field', () => {
    expect(() => resolveRoutingObjective(undefined, { kind: 'value' })).toThrow(ValidationError);
    expect(() => resolveRoutingObjective(undefined, { kind: 'value' })).toThrow(/objective.usd_per_quality/);
    expect(() => resolveRoutingObjective(undefined, { kind: 'cheapest_meeting' })).toThrow(
      /objective.target_quality/,
    );
  });
});

describe('external agents', () => {
  const request = () =>
    buildRequest(
      { ext: { n: 400, mean: 0.95, cost: 0.001 }, kai: { n: 400, mean: 0.6, cost: 0.002 } },
      {
        candidates: [candidate('ext', { external: true }), candidate('kai')],
      },
    );

  it('are never chosen nor weighed, however good and cheap', () => {
    for (const objective of [
      { kind: 'quality' },
      { kind: 'value', usdPerQuality: 1 },
      { kind: 'cheapest_meeting', targetQuality: 0.5, minProbability: 0.5 },
    ] satisfies RoutingObjective[]) {
      const decision = chooseAgent({ ...request(), objective });
      expect(decision.agentId).toBe('kai');
      expect(decision.runnersUp).toEqual([]);
    }
    expect(chooseGreedy(request()).agentId).toBe('kai');
    expect(chooseRandomly(request()).agentId).toBe('kai');
  });

  it('refuse a mention', () => {
    expect(() => chooseAgent({ ...request(), mentionedAgentId: 'ext' })).toThrow(ExternalAgentError);
  });
});

describe('the explanation states the trade-off', () => {
  const row = (agent: string, expected: number, cost: number | null, chosen: boolean): CandidateRow => ({
    agent_id: agent,
    nickname: agent,
    expected_score: expected,
    interval: { lower: expected - 0.05, upper: expected + 0.05 },
    sampled_score: expected,
    adjusted_score: expected,
    observations: 40,
    specialist: false,
    expected_cost: cost,
    charged_cost: cost ?? 0.008,
    expected_duration_ms: 1000,
    load: 0,
    utility: expected,
    target_probability: null,
    excluded_because: null,
    chosen,
  });

  it('value: what the better agent would give, for how much more, and what that is worth', () => {
    const sentence = renderExplanation({
      reason: 'thompson',
      category: 'research',
      maxCost: null,
      maxDurationMs: null,
      objective: { kind: 'value', usdPerQuality: 0.1 },
      candidates: [row('bob', 0.84, 0.008, false), row('kai', 0.81, 0.002, true)],
    });
    expect(sentence).toBe(
      'Objective value at $0.1 per quality point: chose kai, expected 0.81 on research at $0.002 per task; ' +
        'bob would give +0.03 for 4x the cost ($0.008 per task), worth $0.003 at that price, less than the ' +
        '$0.006 more it costs.',
    );
  });

  it('cheapest_meeting: the probability of reaching the target, and what the better agent costs', () => {
    const decision = route({ kind: 'cheapest_meeting', targetQuality: 0.7, minProbability: 0.8 });
    const { sentence } = explainDecision(decision);
    expect(sentence).toBe(
      'Objective cheapest meeting 0.70 (probability ≥ 0.80): chose kai, the cheapest agent likely to reach ' +
        '0.70 on research (probability 1.00), expected 0.80 at $0.002 per task; bob would give +0.04 for ' +
        '10x the cost ($0.02 per task).',
    );
  });

  it('an unknown cost is said to be unknown, with what it was charged', () => {
    const sentence = renderExplanation({
      reason: 'thompson',
      category: 'research',
      maxCost: null,
      maxDurationMs: null,
      objective: { kind: 'value', usdPerQuality: 1 },
      candidates: [row('ann', 0.81, null, true), row('kai', 0.7, 0.002, false)],
    });
    expect(sentence).toContain('chose ann, expected 0.81 on research at an unknown cost (charged as $0.008)');
  });
});
