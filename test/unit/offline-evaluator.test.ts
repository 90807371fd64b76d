import { describe, expect, it } from 'vitest';
import {
  evaluateOffline,
  extractKeyTerms,
  measureOutputSignals,
} from '../../src/evaluation/offline-evaluator.js';

const researchOutput = `# Quantum computing overview

Quantum computing uses qubits, which can hold superpositions of states.

## Key ideas
- Superposition lets a qubit represent 0 and 1 at once.
- Entanglement links qubits so measurements correlate.
- Quantum algorithms such as Shor's factor integers quickly.

In summary, quantum computers promise speedups for specific problems.`;

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
      evaluatorVersion: 'heuristic-1',
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
    const padded = `Paris is the capital of France. ${'Paris is lovely. '.repeat(170)}`;
    const signals = measureOutputSignals({
      command: 'capital of France',
      result: padded,
      category: 'question',
    });
    // 6 + 510 words > 4 x 120
    expect(signals.words).toBe(516);
    expect(signals.lengthScore).toBe(0.8);
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
