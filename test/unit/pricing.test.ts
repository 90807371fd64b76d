import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { estimateCost, findModelPrice, loadPriceTable, SHIPPED_PRICES } from '../../src/llm/pricing.js';
import { testConfig } from '../support/app.js';

const price = (input: number, output: number, cached = input, write = input, reasoning = output) => ({
  inputPerMillion: input,
  outputPerMillion: output,
  cachedInputPerMillion: cached,
  cacheWritePerMillion: write,
  reasoningPerMillion: reasoning,
});

function writePriceFile(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'merit-prices-'));
  const file = path.join(dir, 'prices.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('findModelPrice', () => {
  it('prices the current models the old table missed', () => {
    expect(findModelPrice('gpt-5')).toEqual(price(1.25, 10, 0.125));
    expect(findModelPrice('gpt-5-mini')).toEqual(price(0.25, 2, 0.025));
    expect(findModelPrice('o1')).toEqual(price(15, 60, 7.5));
    expect(findModelPrice('o3')).toEqual(price(2, 8, 0.5));
    expect(findModelPrice('claude-haiku-4-5')).toEqual(price(1, 5, 0.1, 1.25));
    expect(findModelPrice('deepseek-chat')).toEqual(price(0.27, 1.1, 0.07));
  });

  it('gives claude-opus-4-5 its own price, not the claude-opus-4 one', () => {
    expect(findModelPrice('claude-opus-4-5')).toEqual(price(5, 25, 0.5, 6.25));
    expect(findModelPrice('claude-opus-4-5-20251101')).toEqual(price(5, 25, 0.5, 6.25));
    expect(findModelPrice('claude-opus-4-20250514')).toEqual(price(15, 75, 1.5, 18.75));
  });

  it('matches dated names through declared patterns only, never by prefix', () => {
    expect(findModelPrice('gpt-4o-2024-08-06')).toEqual(price(2.5, 10, 1.25));
    expect(findModelPrice('gpt-4o-mini-2024-07-18')).toEqual(price(0.15, 0.6, 0.075));
    expect(findModelPrice('claude-3-5-sonnet-20241022')).toEqual(price(3, 15, 0.3, 3.75));
    // A name that merely starts like a priced model is unknown.
    expect(findModelPrice('gpt-4o-experimental')).toBeNull();
    expect(findModelPrice('o3-pro')).toBeNull();
  });

  it('matches an exact name before any pattern', () => {
    const file = writePriceFile({
      models: { 'gpt-4o-2024-08-06': { input: 1, output: 2 } },
      patterns: [{ glob: 'gpt-4o-*', input: 9, output: 9 }],
    });
    const table = loadPriceTable(file);
    expect(findModelPrice('gpt-4o-2024-08-06', table)).toEqual(price(1, 2));
    expect(findModelPrice('gpt-4o-2024-11-20', table)).toEqual(price(9, 9));
  });

  it('ignores case and an org/ prefix from gateways', () => {
    expect(findModelPrice('OpenAI/GPT-4o')).toEqual(price(2.5, 10, 1.25));
    expect(findModelPrice('Qwen/Qwen2.5-7B-Instruct')).toEqual(price(0, 0));
  });

  it('returns null for an unknown model', () => {
    expect(findModelPrice('mystery-model')).toBeNull();
  });

  it('states the date the shipped prices were checked', () => {
    expect(SHIPPED_PRICES.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('MERIT_PRICES_FILE', () => {
  it('adds models and overrides shipped ones; its patterns come before the shipped ones', () => {
    const file = writePriceFile({
      checked: '2026-11-01',
      models: { 'gpt-4o': { input: 2, output: 8 }, 'house-model': { input: 1, output: 1 } },
      patterns: [{ regex: '^gpt-4o-2024-.*$', same_as: 'house-model' }],
    });
    const config = testConfig({ MERIT_PRICES_FILE: file });
    expect(findModelPrice('gpt-4o', config.prices)).toEqual(price(2, 8));
    expect(findModelPrice('house-model', config.prices)).toEqual(price(1, 1));
    expect(findModelPrice('gpt-4o-2024-08-06', config.prices)).toEqual(price(1, 1));
    expect(findModelPrice('gpt-5', config.prices)).toEqual(price(1.25, 10, 0.125));
    expect(config.prices.checked).toBe('2026-11-01');
  });

  it('refuses a file that is not a valid price table, naming the problem', () => {
    expect(() => testConfig({ MERIT_PRICES_FILE: writePriceFile('{ nope') })).toThrow(/MERIT_PRICES_FILE/);
    expect(() =>
      testConfig({ MERIT_PRICES_FILE: writePriceFile({ models: { x: { input: -1, output: 1 } } }) }),
    ).toThrow(/models\.x\.input/);
    expect(() =>
      testConfig({
        MERIT_PRICES_FILE: writePriceFile({ patterns: [{ glob: 'x*', same_as: 'nothing-here' }] }),
      }),
    ).toThrow(/same_as names 'nothing-here'/);
    expect(() => testConfig({ MERIT_PRICES_FILE: '/nonexistent/prices.json' })).toThrow(/cannot read/);
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

  it('prices cached prompt tokens at the cached-input rate', () => {
    // gpt-5: 10000 prompt of which 8000 cached: 2000 x 1.25/1M + 8000 x 0.125/1M + 1000 x 10/1M
    expect(estimateCost('gpt-5', 10_000, 1_000, { cachedPromptTokens: 8_000 })).toBe(0.0135);
    expect(estimateCost('gpt-5', 10_000, 1_000)).toBe(0.0225);
  });

  it('prices cache writes at the cache-write rate (Anthropic)', () => {
    // claude-haiku-4-5: 1000 plain x 1 + 3000 read x 0.1 + 2000 written x 1.25, + 500 x 5 (per 1M)
    expect(
      estimateCost('claude-haiku-4-5', 6_000, 500, { cachedPromptTokens: 3_000, cacheWriteTokens: 2_000 }),
    ).toBe(0.0063);
  });

  it('prices reasoning tokens at the reasoning rate, inside the completion tokens', () => {
    const file = writePriceFile({ models: { thinker: { input: 1, output: 10, reasoning: 20 } } });
    const table = loadPriceTable(file);
    // 1000 x 1 + (3000 - 2000) x 10 + 2000 x 20, per 1M
    expect(estimateCost('thinker', 1_000, 3_000, { reasoningTokens: 2_000 }, table)).toBe(0.051);
    // The shipped models bill reasoning as output: the split changes nothing.
    expect(estimateCost('o3', 1_000, 3_000, { reasoningTokens: 2_000 })).toBe(
      estimateCost('o3', 1_000, 3_000),
    );
  });

  it('rounds to 6 decimals', () => {
    expect(estimateCost('gpt-4o-mini', 1, 0)).toBe(0);
    expect(estimateCost('gpt-4o-mini', 7, 3)).toBe(0.000003);
  });

  it('costs nothing for local open models', () => {
    expect(estimateCost('llama3.1:8b', 10_000, 10_000)).toBe(0);
    expect(estimateCost('qwen2.5:14b', 10_000, 10_000)).toBe(0);
    expect(estimateCost('mistral:7b', 10_000, 10_000)).toBe(0);
  });

  it('gives simulated agents a small nominal cost', () => {
    expect(estimateCost('simulated', 1_000_000, 1_000_000)).toBe(2);
    expect(estimateCost('simulated-writer', 2_000, 1_000)).toBe(0.0025);
  });

  it('returns null for an unknown model', () => {
    expect(estimateCost('mystery-model', 100, 100)).toBeNull();
  });

  it('rejects negative or non-finite token counts', () => {
    expect(() => estimateCost('gpt-4o', -1, 0)).toThrow(ValidationError);
    expect(() => estimateCost('gpt-4o', 0, Number.NaN)).toThrow(ValidationError);
    expect(() => estimateCost('gpt-4o', 10, 0, { cachedPromptTokens: -1 })).toThrow(ValidationError);
  });
});
