import { describe, expect, it } from 'vitest';
import { DEFAULT_ROSTER } from '../../src/agents/roster.js';
import { simulateRun } from '../../src/agents/simulated-team.js';
import {
  evaluateOffline,
  extractKeyTerms,
  measureOutputSignals,
} from '../../src/evaluation/offline-evaluator.js';
import { createRng } from '../../src/lib/random.js';
import { DEFAULT_CATEGORY_TEMPLATES } from '../../src/routing/classifier.js';

const researchOutput = `# Quantum computing overview

Quantum computing uses qubits, which can hold superpositions of states.

## Key ideas
- Superposition lets a qubit represent 0 and 1 at once.
- Entanglement links qubits so measurements correlate.
- Quantum algorithms such as Shor's factor integers quickly.

In summary, quantum computers promise speedups for specific problems.`;

const remoteWorkCommand = '@bob research the impact of remote work on team productivity';

const remoteWorkAnswer = `## Remote work and team productivity

Studies since 2020 disagree because they measure different things. Output per hour tends to rise for
focused individual work (call-centre trials at Ctrip found about 13% more calls handled), while
collaborative and creative work suffers when teams never meet: Microsoft's 2021 analysis of 61,000
employees showed networks becoming more siloed and asynchronous.

### What the evidence shows
- Individual tasks: modest gains, fewer interruptions, longer focus blocks.
- Coordination: slower decisions, weaker ties between groups, harder onboarding of juniors.
- Hybrid schedules (two or three office days) keep most gains with smaller costs in retention surveys.

### Caveats
Self-reported productivity overstates gains; managers' ratings understate them. Selection matters:
people who choose remote work differ from those assigned to it.

In summary, remote work raises productivity for independent tasks and lowers it for tightly coupled
ones; measure outcomes per team rather than hours online.`;

/** The offline evaluator's own verdict on one output: the mean of the dimensions it measures. */
function scoreOutput(evaluation: { relevance: number | null; completeness: number }): number {
  return evaluation.relevance === null
    ? evaluation.completeness
    : (evaluation.relevance + evaluation.completeness) / 2;
}

/** Ranks from 1, ties sharing their average rank. */
function rankWithTies(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length).fill(0);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.value === order[start]?.value) end++;
    for (let k = start; k <= end; k++) ranks[order[k]?.index ?? 0] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson's correlation of the tie-averaged ranks. */
function spearman(left: readonly number[], right: readonly number[]): number {
  const a = rankWithTies(left);
  const b = rankWithTies(right);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const [meanA, meanB] = [mean(a), mean(b)];
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < a.length; i++) {
    const [da, db] = [(a[i] ?? 0) - meanA, (b[i] ?? 0) - meanB];
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}

describe('evaluateOffline', () => {
  it('scores a structured, on-topic but short research answer', () => {
    const evaluation = evaluateOffline({
      command: '@bob research quantum computing',
      result: researchOutput,
      category: 'research',
    });
    // terms {quantum, comput} both found; 4 of 7 lines on topic -> focus min(1, 0.571/0.5) = 1
    // relevance = 0.7x1 + 0.3x1 = 1
    // completeness = 0.4 coverage 1 + 0.3 length 48/200 + 0.2 structure 1 + 0.1 conclusion 1 = 0.772
    expect(evaluation).toMatchObject({
      accuracy: null,
      relevance: 1,
      completeness: 0.77,
      source: 'heuristic',
      evaluatorVersion: 'heuristic-2',
    });
    expect(evaluation.reasoning).toContain('2/2 command terms found');
    expect(evaluation.reasoning).toContain('48 words (research expects at least 200)');
    expect(evaluation.reasoning).toContain('Accuracy: not measured (no reference answer)');
  });

  it('gives an off-topic answer zero relevance', () => {
    const evaluation = evaluateOffline({
      command: '@bob research quantum computing',
      result: 'Bananas are yellow fruit rich in potassium.',
      category: 'research',
    });
    // completeness = 0.3 x 7/200 = 0.0105 (no coverage, structure or conclusion)
    expect(evaluation.relevance).toBe(0);
    expect(evaluation.completeness).toBe(0.01);
    expect(evaluation.reasoning).toContain('missing: quantum, comput');
  });

  it('measures accuracy only against a reference answer', () => {
    const base = {
      command: '@ana what is the capital of France?',
      result: 'The capital of France is Paris.',
    };
    expect(evaluateOffline(base).accuracy).toBeNull();
    expect(evaluateOffline({ ...base, referenceAnswer: 'Paris' }).accuracy).toBe(1);
    expect(evaluateOffline({ ...base, referenceAnswer: 'Lyon' }).accuracy).toBe(0);
    // reference terms {capital, franc, paris, seine}: 3 of 4 present
    expect(
      evaluateOffline({ ...base, referenceAnswer: 'Paris, on the Seine, is the capital of France' }).accuracy,
    ).toBe(0.75);
  });

  it('judges length against the category expectation', () => {
    const evaluation = evaluateOffline({
      command: '@ana what is the capital of France?',
      result: 'The capital of France is Paris.',
      category: 'question',
    });
    // question: no structure or conclusion expected; (0.4x1 + 0.3x6/20) / 0.7 = 0.7
    expect(evaluation.completeness).toBe(0.7);
    expect(evaluation.relevance).toBe(1);
  });

  it('treats padding far beyond the ideal length as less complete', () => {
    const filler = Array.from({ length: 510 }, (_, i) => `fact${i}`).join(' ');
    const padded = `Paris is the capital of France. ${filler}`;
    const signals = measureOutputSignals({
      command: 'capital of France',
      result: padded,
      category: 'question',
    });
    // 6 + 510 words, none repeated, > 4 x 120
    expect(signals).toMatchObject({ words: 516, informativeWords: 516, originality: 1 });
    expect(signals.lengthScore).toBe(0.8);
  });

  it('scores 40 repeated lines of the command words near 0, far below a genuine answer', () => {
    const stuffing = Array.from({ length: 40 }, () => 'remote work team productivity impact research').join(
      '\n',
    );
    const stuffed = evaluateOffline({ command: remoteWorkCommand, result: stuffing, category: 'research' });
    const genuine = evaluateOffline({
      command: remoteWorkCommand,
      result: remoteWorkAnswer,
      category: 'research',
    });
    // 240 words, 238 trigrams but 6 distinct (4 in a line, 2 across lines), none said once: originality 0.
    expect(measureOutputSignals({ command: remoteWorkCommand, result: stuffing })).toMatchObject({
      words: 240,
      informativeWords: 8,
      ownTerms: 0,
      originality: 0,
    });
    expect(stuffed).toMatchObject({ relevance: 0, completeness: 0 });
    expect(stuffed.reasoning).toContain('0 content terms of its own');
    expect(stuffed.reasoning).toContain('only 0% of its word trigrams are unique');
    expect(genuine.relevance).toBeGreaterThanOrEqual(0.8);
    expect(genuine.completeness).toBeGreaterThanOrEqual(0.8);
  });

  it('still scores stuffing low when filler words vary from line to line', () => {
    const fillers = ['great', 'key', 'important', 'critical', 'essential'];
    const stuffing = Array.from(
      { length: 40 },
      (_, i) => `remote work ${fillers[i % fillers.length]} team productivity impact`,
    ).join('\n');
    const signals = measureOutputSignals({
      command: remoteWorkCommand,
      result: stuffing,
      category: 'research',
    });
    // Every 5th line repeats: 5 line shapes, so at most 5 x 6 distinct trigrams of 238.
    expect(signals.originality).toBe(0);
    expect(signals.informativeWords).toBeLessThanOrEqual(32);
    const stuffed = evaluateOffline({ command: remoteWorkCommand, result: stuffing, category: 'research' });
    expect(stuffed).toMatchObject({ relevance: 0, completeness: 0 });
  });

  it('gives a four-word echo of the command no relevance, and a short answer that adds a fact its full due', () => {
    const echo = evaluateOffline({
      command: remoteWorkCommand,
      result: 'Remote work team productivity',
      category: 'research',
    });
    // 4/5 terms (no "impact"): on-topic 0.86 x substance 0 (no term of its own; research expects 10).
    expect(echo.relevance).toBe(0);
    // coverage 0.8 x substance 0 + length 4/200 x 0.3 + no structure, no conclusion
    expect(echo.completeness).toBe(0.01);
    const answer = evaluateOffline({
      command: '@ana what is the capital of France?',
      result: 'The capital of France is Paris.',
      category: 'question',
    });
    // question expects 1 own term (20 words / 20): "paris" is one.
    expect(answer.relevance).toBe(1);
  });

  it('ranks the simulated team outputs like their hidden quality (Spearman, 1,000 outputs)', () => {
    const workers = DEFAULT_ROSTER.filter((agent) => !agent.isOrchestrator);
    const templates = DEFAULT_CATEGORY_TEMPLATES.filter((template) => template.example_commands.length > 0);
    const random = createRng(42);
    const quality: number[] = [];
    const scores: number[] = [];
    const byCategory = new Map<string, { quality: number[]; scores: number[] }>();
    for (let i = 0; i < 1000; i++) {
      const template = templates[Math.floor(random() * templates.length)] as (typeof templates)[number];
      const agent = workers[Math.floor(random() * workers.length)] as (typeof workers)[number];
      const example = template.example_commands[Math.floor(random() * template.example_commands.length)];
      const command = `@${agent.nickname} ${example}`;
      // Failures have no output to read; the evaluator scores them 0 whatever their quality.
      const run = simulateRun({
        agent,
        command,
        category: template.category,
        seed: 42,
        runKey: String(i),
        failureRate: 0,
      });
      const score = scoreOutput(
        evaluateOffline({ command, result: run.result, category: template.category }),
      );
      quality.push(run.quality);
      scores.push(score);
      const group = byCategory.get(template.category) ?? { quality: [], scores: [] };
      group.quality.push(run.quality);
      group.scores.push(score);
      byCategory.set(template.category, group);
    }
    const pooled = spearman(quality, scores);
    const perCategory = [...byCategory.entries()].map(([category, group]) => ({
      category,
      rho: spearman(group.quality, group.scores),
    }));
    const meanWithin = perCategory.reduce((sum, entry) => sum + entry.rho, 0) / perCategory.length;
    console.log(
      `offline evaluator vs hidden quality: Spearman ${pooled.toFixed(3)} pooled, ${meanWithin.toFixed(3)} ` +
        `mean within a category (${perCategory.map((entry) => `${entry.category} ${entry.rho.toFixed(2)}`).join(', ')})`,
    );
    // Floors a little under the figures measured with this seed (0.346 pooled, 0.688 within a category).
    expect(pooled).toBeGreaterThan(0.3);
    expect(meanWithin).toBeGreaterThan(0.65);
  });

  it('scores failed, empty and error-message outputs zero', () => {
    const command = '@bob research quantum computing';
    for (const input of [
      { command, result: researchOutput, status: 'failed' as const },
      { command, result: '   ' },
      { command, result: null },
      { command, result: 'Error: rate limit exceeded' },
    ]) {
      const evaluation = evaluateOffline(input);
      expect(evaluation.relevance).toBe(0);
      expect(evaluation.completeness).toBe(0);
      expect(evaluation.accuracy).toBeNull();
    }
    expect(evaluateOffline({ command, result: '', referenceAnswer: 'qubits' }).accuracy).toBe(0);
    expect(evaluateOffline({ command, result: null, status: 'failed' }).reasoning).toContain(
      'the task failed',
    );
  });

  it('leaves relevance unmeasured when the command has no topical terms', () => {
    const result = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const evaluation = evaluateOffline({ command: '@bob please help', result });
    // default category: only length counts, 30/60
    expect(evaluation.relevance).toBeNull();
    expect(evaluation.completeness).toBe(0.5);
    expect(evaluation.reasoning).toContain('the command has no topical terms');
  });

  it('resolves category names case-insensitively and through aliases', () => {
    expect(
      measureOutputSignals({ command: 'x', result: 'y', category: 'Research' }).expectation.minWords,
    ).toBe(200);
    expect(measureOutputSignals({ command: 'x', result: 'y', category: 'summary' }).category).toBe(
      'summarization',
    );
    expect(
      measureOutputSignals({ command: 'x', result: 'y', category: 'unknown' }).expectation.minWords,
    ).toBe(60);
  });

  it('is deterministic', () => {
    const input = {
      command: '@bob research quantum computing',
      result: researchOutput,
      category: 'research',
    };
    expect(evaluateOffline(input)).toEqual(evaluateOffline(input));
  });
});

describe('measureOutputSignals', () => {
  it('counts headings, list items, paragraphs and a conclusion', () => {
    const signals = measureOutputSignals({ command: 'quantum computing', result: researchOutput });
    expect(signals).toMatchObject({
      headings: 2,
      listItems: 3,
      paragraphs: 4,
      hasConclusion: true,
      structureScore: 1,
    });
  });

  it('recognises a conclusion heading', () => {
    const result = 'Some text.\n\n## Conclusion\nThat is all.';
    expect(measureOutputSignals({ command: 'x', result }).hasConclusion).toBe(true);
    expect(measureOutputSignals({ command: 'x', result: 'Some text.\n\nMore text.' }).hasConclusion).toBe(
      false,
    );
  });

  it('scores plan signals: steps, sequencing, rationale and approach words', () => {
    const plan =
      '1. First gather data\n2. Then compare options because cost matters\n\nOur approach is simple.';
    expect(measureOutputSignals({ command: 'x', result: plan }).planScore).toBe(1);
    expect(measureOutputSignals({ command: 'x', result: 'Paris.' }).planScore).toBe(0);
    // only the sequencing group ("then") is present
    expect(measureOutputSignals({ command: 'x', result: 'We ate, then slept.' }).planScore).toBe(0.25);
  });
});

describe('key terms', () => {
  it('drops the @mention, stop words and instruction verbs from the command', () => {
    expect(
      extractKeyTerms('@quantum please explain the computing of qubits', { dropInstructions: true }),
    ).toEqual(['comput', 'qubit']);
  });
});
