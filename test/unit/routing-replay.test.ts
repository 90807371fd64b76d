import { describe, expect, it } from 'vitest';
import {
  buildPriceGrid,
  buildQualityCurve,
  categoryOraclePoint,
  findAnchors,
  greedyPolicy,
  meritPolicy,
  parseCsvRows,
  parseReplayCsv,
  randomPolicy,
  replayPolicy,
  shufflePrompts,
  singleAgentPoint,
  summarizeCurve,
} from '../../src/routing/replay.js';

/**
 * Two categories, two agents. cheap ($0.001) is excellent at code (0.9) and poor at prose (0.2); dear
 * ($0.01) is 0.6 at both. Always-cheapest: 0.55 at $0.001; always-best: dear, 0.6 at $0.01. The
 * per-category oracle takes cheap for code and dear for prose: 0.75 at $0.0055.
 */
const TINY_CSV = `prompt,category,agent,score,cost
p1,code,cheap,0.9,0.001
p1,code,dear,0.6,0.01
p2,prose,cheap,0.2,0.001
p2,prose,dear,0.6,0.01
p3,code,cheap,0.9,0.001
p3,code,dear,0.6,0.01
p4,prose,cheap,0.2,0.001
p4,prose,dear,0.6,0.01
"p5, with a comma",code,cheap,0.9,0.001
"p5, with a comma",code,dear,0.6,0.01
p6,prose,cheap,0.2,0.001
p6,prose,dear,0.6,0.01
p7,code,cheap,0.9,0.001
p7,code,dear,0.6,0.01
p8,prose,cheap,0.2,0.001
p8,prose,dear,0.6,0.01
`;

describe('the replay file', () => {
  it('reads the long CSV, one row per prompt and agent, quoted fields included', () => {
    const data = parseReplayCsv(TINY_CSV);
    expect(data.agents).toEqual(['cheap', 'dear']);
    expect(data.categories).toEqual(['code', 'prose']);
    expect(data.prompts.map((entry) => entry.prompt)).toEqual([
      'p1',
      'p2',
      'p3',
      'p4',
      'p5, with a comma',
      'p6',
      'p7',
      'p8',
    ]);
    expect(data.prompts[4]?.outcomes.get('dear')).toEqual({ score: 0.6, cost: 0.01 });
    expect(parseCsvRows('a,"b ""q"", c"\r\nd,e\n')).toEqual([
      ['a', 'b "q", c'],
      ['d', 'e'],
    ]);
  });

  it('refuses a bad file naming the line and the rule', () => {
    expect(() => parseReplayCsv('prompt,agent,score\n')).toThrow(/line 1: the header/);
    expect(() => parseReplayCsv(`${TINY_CSV}p9,code,cheap,1.5,0.001\n`)).toThrow(/line 18: score must be/);
    expect(() => parseReplayCsv(`${TINY_CSV}p9,code,cheap,0.5,-1\n`)).toThrow(/line 18: cost must be/);
    expect(() => parseReplayCsv(`${TINY_CSV}p9,code,cheap,0.5,0.001\n`)).toThrow(/p9' has no row for dear/);
    expect(() => parseReplayCsv(`${TINY_CSV}p1,code,cheap,0.5,0.001\n`)).toThrow(/line 18: a second row/);
  });

  it('shuffles with a seed, the same way every time', () => {
    const data = parseReplayCsv(TINY_CSV);
    const once = shufflePrompts(data.prompts, 3).map((entry) => entry.prompt);
    expect(shufflePrompts(data.prompts, 3).map((entry) => entry.prompt)).toEqual(once);
    expect([...once].sort()).toEqual(data.prompts.map((entry) => entry.prompt).sort());
  });
});

describe('APGR and the quality-cost curve', () => {
  const data = parseReplayCsv(TINY_CSV);
  const anchors = findAnchors(data);

  it('anchors the gap on always-cheapest and always-best', () => {
    expect(anchors.cheapest).toMatchObject({ agent: 'cheap', quality: 0.55, cost: 0.001 });
    expect(anchors.best).toMatchObject({ agent: 'dear', quality: 0.6, cost: 0.01 });
  });

  it('scores always-cheapest 0 and always-best 0.5 (reached only at its own cost, mixing in between)', () => {
    expect(summarizeCurve([singleAgentPoint(data, 'cheap')], anchors).apgr).toBe(0);
    const best = summarizeCurve([singleAgentPoint(data, 'dear')], anchors);
    expect(best.apgr).toBeCloseTo(0.5, 6);
    // 50% of the gap by mixing half and half: $0.0055; 80%: $0.0082.
    expect(best.costFor50).toBeCloseTo(0.0055, 9);
    expect(best.costFor80).toBeCloseTo(0.0082, 9);
  });

  it("computes the per-category oracle's APGR by its definition", () => {
    const points = [0.001, 0.01, 0.1, Number.POSITIVE_INFINITY].map((price) =>
      categoryOraclePoint(data, price),
    );
    // Cheap prices: cheap everywhere; dear prices: cheap for code and dear for prose.
    expect(points[0]?.quality).toBeCloseTo(0.55, 12);
    expect(points[3]?.quality).toBeCloseTo(0.75, 12);
    expect(points[3]?.cost).toBeCloseTo(0.0055, 12);
    const summary = summarizeCurve(points, anchors);
    // The gap (0.05) is closed by budget 0.001 + 0.0045 / 4 = 0.002125; the share rises linearly until
    // then and stays 1: APGR = (0.5 * 0.001125 + (0.01 - 0.002125)) / 0.009 = 0.9375.
    expect(summary.apgr).toBeCloseTo(0.9375, 4);
    expect(summary.costFor50).toBeCloseTo(0.0015625, 9);
    expect(summary.costFor80).toBeCloseTo(0.0019, 9);
  });

  it("keeps the curve monotone and the merit sweep's points between the anchors' bounds", () => {
    const prompts = shufflePrompts(Array.from({ length: 6 }, () => data.prompts).flat(), 11);
    const points = [...buildPriceGrid(anchors), Number.POSITIVE_INFINITY].map((price) =>
      replayPolicy(
        data,
        prompts,
        meritPolicy(Number.isFinite(price) ? { kind: 'value', usdPerQuality: price } : { kind: 'quality' }),
        5,
      ),
    );
    for (const point of points) {
      expect(point.cost).toBeGreaterThanOrEqual(0.001);
      expect(point.cost).toBeLessThanOrEqual(0.01);
      // No policy beats always taking each prompt's best outcome (0.9 / 0.6 here).
      expect(point.quality).toBeLessThanOrEqual(0.75 + 1e-12);
      expect(point.quality).toBeGreaterThanOrEqual(0.2);
    }
    const curve = buildQualityCurve(points, anchors.cheapest);
    const budgets = Array.from({ length: 50 }, (_, i) => 0.001 + (i * 0.009) / 49);
    const qualities = budgets.map(curve);
    expect(qualities).toEqual([...qualities].sort((left, right) => left - right));
    const summary = summarizeCurve(points, anchors);
    expect(summary.apgr).toBeGreaterThanOrEqual(0);
    expect(summary.apgr).toBeLessThanOrEqual(1);
    // Learning the split by category beats always paying for the best agent.
    expect(summary.apgr).toBeGreaterThan(0.5);
  });

  it('replays greedy and random through the same loop, with feedback only for the chosen agent', () => {
    const greedy = replayPolicy(data, data.prompts, greedyPolicy, 1);
    const random = replayPolicy(data, data.prompts, randomPolicy, 1);
    for (const point of [greedy, random]) {
      expect(point.cost).toBeGreaterThanOrEqual(0.001);
      expect(point.cost).toBeLessThanOrEqual(0.01);
    }
    // Each prompt's cost is one of the two agents': the mean is a mix of them in eighths.
    expect((greedy.cost - 0.001) / 0.009).toBeCloseTo(Math.round(((greedy.cost - 0.001) / 0.009) * 8) / 8, 9);
  });
});
