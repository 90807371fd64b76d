import { describe, expect, it } from 'vitest';
import {
  classifyCommand,
  DEFAULT_CATEGORY_TEMPLATES,
  stripLeadingMentions,
  tokenizeCommand,
  trainClassifier,
} from '../../src/routing/classifier.js';

const model = trainClassifier(DEFAULT_CATEGORY_TEMPLATES);

describe('tokenizeCommand', () => {
  it('drops leading mentions, stopwords and punctuation, and adds bigrams', () => {
    expect(tokenizeCommand('@bob Research the quantum computers!')).toEqual([
      'research',
      'quantum',
      'comput',
      'research_quantum',
      'quantum_comput',
    ]);
  });

  it('strips several leading mentions but keeps later ones', () => {
    expect(stripLeadingMentions('@bob, @sue: ask @rex')).toBe('ask @rex');
  });
});

describe('classifyCommand', () => {
  it('classifies research', () => {
    const result = classifyCommand(model, 'research quantum computing');
    expect(result).toMatchObject({ category: 'research', fellBack: false });
    expect(result.confidence).toBeGreaterThan(0.9);
  });

  it('classifies compliance', () => {
    expect(classifyCommand(model, 'check this contract for GDPR issues').category).toBe('compliance');
  });

  it.each([
    ['write an email to the board about the delay', 'writing'],
    ['plot monthly revenue from the csv', 'data'],
    ['fix the failing unit test in the payment module', 'coding'],
    ['build a roadmap for next quarter', 'planning'],
    ['critique this draft and give feedback', 'review'],
    ['hello, how are you', 'chat'],
    ['compare the pros and cons of both vendors', 'analysis'],
  ])('classifies "%s" as %s', (text, category) => {
    expect(classifyCommand(model, text).category).toBe(category);
  });

  it('ignores the leading mention', () => {
    const plain = classifyCommand(model, 'research quantum computing');
    const mentioned = classifyCommand(model, '@sue research quantum computing');
    expect(mentioned).toEqual(plain);
  });

  it('falls back to general when nothing is recognised', () => {
    const result = classifyCommand(model, 'the purple elephant sings');
    expect(result).toMatchObject({ category: 'general', fellBack: true });
    expect(result.confidence).toBeCloseTo(1 / DEFAULT_CATEGORY_TEMPLATES.length, 9);
  });

  it('falls back below the requested confidence and lists the best guess as an alternative', () => {
    const result = classifyCommand(model, 'research quantum computing', { minConfidence: 0.999 });
    expect(result).toMatchObject({ category: 'general', fellBack: true });
    expect(result.alternatives[0]?.category).toBe('research');
  });

  it('returns alternatives in decreasing confidence, and probabilities that sum to 1', () => {
    const result = classifyCommand(model, 'analyze the sales data', { maxAlternatives: 20 });
    const confidences = result.alternatives.map((alternative) => alternative.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    const total = confidences.reduce((sum, value) => sum + value, result.confidence);
    expect(total).toBeCloseTo(1, 9);
  });

  it('learns from labelled commands', () => {
    const text = 'prepare the zorblax ledger';
    expect(classifyCommand(model, text).fellBack).toBe(true);
    const labelled = [
      { text: 'update the zorblax ledger', category: 'data' },
      { text: 'reconcile zorblax ledger entries', category: 'data' },
    ];
    const trained = trainClassifier(DEFAULT_CATEGORY_TEMPLATES, labelled);
    expect(classifyCommand(trained, text)).toMatchObject({ category: 'data', fellBack: false });
  });

  it('works the same after a JSON round trip of the model', () => {
    const reloaded = JSON.parse(JSON.stringify(model));
    expect(classifyCommand(reloaded, 'check this contract for GDPR issues')).toEqual(
      classifyCommand(model, 'check this contract for GDPR issues'),
    );
  });

  it('treats prototype names as ordinary words', () => {
    expect(classifyCommand(model, 'constructor toString __proto__').category).toBe('general');
  });
});

describe('DEFAULT_CATEGORY_TEMPLATES', () => {
  it('covers the ten categories with complete templates', () => {
    expect(DEFAULT_CATEGORY_TEMPLATES.map((template) => template.category).sort()).toEqual([
      'analysis',
      'chat',
      'coding',
      'compliance',
      'data',
      'general',
      'planning',
      'research',
      'review',
      'writing',
    ]);
    for (const template of DEFAULT_CATEGORY_TEMPLATES) {
      expect(template.keywords.length).toBeGreaterThanOrEqual(15);
      expect(template.example_commands.length).toBeGreaterThanOrEqual(3);
      expect(template.example_commands.length).toBeLessThanOrEqual(6);
      expect(template.evaluation_criteria.length).toBeGreaterThan(0);
      expect(template.recommended_agents.length).toBeGreaterThan(0);
      expect(template.typical_tokens).toBeGreaterThan(0);
      expect(template.typical_duration_ms).toBeGreaterThan(0);
    }
  });

  it('classifies every example command into its own category', () => {
    for (const template of DEFAULT_CATEGORY_TEMPLATES) {
      for (const example of template.example_commands) {
        expect([example, classifyCommand(model, example).category]).toEqual([example, template.category]);
      }
    }
  });
});
