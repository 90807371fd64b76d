import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { estimateCost, findModelPrice } from '../../src/llm/pricing.js';

describe('findModelPrice', () => {
  it('matches versioned names by prefix', () => {
    expect(findModelPrice('gpt-4o-2024-08-06')).toEqual({ promptPerMillion: 2.5, completionPerMillion: 10 });
    expect(findModelPrice('claude-3-5-sonnet-20241022')).toEqual({
      promptPerMillion: 3,
      completionPerMillion: 15,
    });
    expect(findModelPrice('claude-opus-4-20250514')).toEqual({
      promptPerMillion: 15,
      completionPerMillion: 75,
    });
  });

  it('prefers the longest prefix, so mini models are not priced as their big siblings', () => {
    expect(findModelPrice('gpt-4o-mini-2024-07-18')).toEqual({
      promptPerMillion: 0.15,
      completionPerMillion: 0.6,
    });
    expect(findModelPrice('gpt-4.1-mini')).toEqual({ promptPerMillion: 0.4, completionPerMillion: 1.6 });
    expect(findModelPrice('gpt-4.1')).toEqual({ promptPerMillion: 2, completionPerMillion: 8 });
  });

  it('ignores case and an org/ prefix from gateways', () => {
    expect(findModelPrice('OpenAI/GPT-4o')).toEqual({ promptPerMillion: 2.5, completionPerMillion: 10 });
    expect(findModelPrice('Qwen/Qwen2.5-7B-Instruct')).toEqual({
      promptPerMillion: 0,
      completionPerMillion: 0,
    });
  });

  it('returns null for an unknown model', () => {
    expect(findModelPrice('mystery-model')).toBeNull();
  });
});

describe('estimateCost', () => {
  it('prices prompt and completion tokens separately', () => {
    // 1000 x 2.50/1M + 500 x 10/1M = 0.0025 + 0.005
    expect(estimateCost('gpt-4o', 1_000, 500)).toBe(0.0075);
    // 2000 x 3/1M + 1000 x 15/1M = 0.006 + 0.015
    expect(estimateCost('claude-sonnet-4-20250514', 2_000, 1_000)).toBe(0.021);
    // 1234 x 1.1/1M + 567 x 4.4/1M = 0.0013574 + 0.0024948
    expect(estimateCost('o3-mini', 1_234, 567)).toBe(0.003852);
  });

  it('rounds to 6 decimals', () => {
    // 1 x 0.15/1M = 0.00000015 -> 0
    expect(estimateCost('gpt-4o-mini', 1, 0)).toBe(0);
    // 7 x 0.15/1M + 3 x 0.6/1M = 0.00000285 -> 0.000003
    expect(estimateCost('gpt-4o-mini', 7, 3)).toBe(0.000003);
  });

  it('costs nothing for local open models', () => {
    expect(estimateCost('llama3.1:8b', 10_000, 10_000)).toBe(0);
    expect(estimateCost('qwen2.5:14b', 10_000, 10_000)).toBe(0);
    expect(estimateCost('mistral:7b', 10_000, 10_000)).toBe(0);
  });

  it('gives simulated agents a small nominal cost', () => {
    // 1M x 0.50/1M + 1M x 1.50/1M
    expect(estimateCost('simulated', 1_000_000, 1_000_000)).toBe(2);
    expect(estimateCost('simulated-writer', 2_000, 1_000)).toBe(0.0025);
  });

  it('returns null for an unknown model', () => {
    expect(estimateCost('mystery-model', 100, 100)).toBeNull();
  });

  it('rejects negative or non-finite token counts', () => {
    expect(() => estimateCost('gpt-4o', -1, 0)).toThrow(ValidationError);
    expect(() => estimateCost('gpt-4o', 0, Number.NaN)).toThrow(ValidationError);
  });
});
