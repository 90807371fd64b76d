/**
 * Model prices in USD per 1M tokens, from the providers' public price lists (list prices, no batch or
 * cache discounts). Versioned names resolve by the longest matching prefix:
 * "gpt-4o-2024-08-06" -> gpt-4o, "gpt-4o-mini-2024-07-18" -> gpt-4o-mini, "llama3.1:8b" -> llama.
 */
import { ValidationError } from '../errors.js';

export type ModelPrice = { promptPerMillion: number; completionPerMillion: number };

/**
 * Open-weight families (llama, qwen, mistral, gemma, phi) are priced at 0: Merit assumes they run on the
 * team's own hardware (Ollama, vLLM). `simulated` agents get a nominal $0.50 / $1.50 per 1M so their
 * cost columns and cost-efficiency ranking show realistic, non-zero figures in demos.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { promptPerMillion: 2.5, completionPerMillion: 10 },
  'gpt-4o-mini': { promptPerMillion: 0.15, completionPerMillion: 0.6 },
  'gpt-4.1': { promptPerMillion: 2, completionPerMillion: 8 },
  'gpt-4.1-mini': { promptPerMillion: 0.4, completionPerMillion: 1.6 },
  'gpt-4.1-nano': { promptPerMillion: 0.1, completionPerMillion: 0.4 },
  'o3-mini': { promptPerMillion: 1.1, completionPerMillion: 4.4 },
  'o4-mini': { promptPerMillion: 1.1, completionPerMillion: 4.4 },
  'claude-3-5-sonnet': { promptPerMillion: 3, completionPerMillion: 15 },
  'claude-3-7-sonnet': { promptPerMillion: 3, completionPerMillion: 15 },
  'claude-3-5-haiku': { promptPerMillion: 0.8, completionPerMillion: 4 },
  'claude-sonnet-4': { promptPerMillion: 3, completionPerMillion: 15 },
  'claude-opus-4': { promptPerMillion: 15, completionPerMillion: 75 },
  llama: { promptPerMillion: 0, completionPerMillion: 0 },
  qwen: { promptPerMillion: 0, completionPerMillion: 0 },
  mistral: { promptPerMillion: 0, completionPerMillion: 0 },
  gemma: { promptPerMillion: 0, completionPerMillion: 0 },
  phi: { promptPerMillion: 0, completionPerMillion: 0 },
  simulated: { promptPerMillion: 0.5, completionPerMillion: 1.5 },
};

// Longest first, so "gpt-4o-mini" wins over "gpt-4o" for "gpt-4o-mini-2024-07-18".
const PREFIXES_LONGEST_FIRST = Object.keys(MODEL_PRICES).sort((a, b) => b.length - a.length);

/** The price for a model name, or null when the model is unknown. Case-insensitive; "org/" prefixes are ignored. */
export function findModelPrice(model: string): ModelPrice | null {
  const name = normalizeModelName(model);
  const prefix = PREFIXES_LONGEST_FIRST.find((candidate) => name.startsWith(candidate));
  return prefix === undefined ? null : (MODEL_PRICES[prefix] ?? null);
}

/** Estimated cost in USD, rounded to 6 decimals; null when the model is not in the price table. */
export function estimateCost(model: string, promptTokens: number, completionTokens: number): number | null {
  assertTokenCount('promptTokens', promptTokens);
  assertTokenCount('completionTokens', completionTokens);
  const price = findModelPrice(model);
  if (price === null) return null;
  const cost =
    (promptTokens * price.promptPerMillion + completionTokens * price.completionPerMillion) / 1_000_000;
  return Math.round(cost * 1_000_000) / 1_000_000;
}

// Hosted gateways (vLLM, OpenRouter) name models "openai/gpt-4o" or "Qwen/Qwen2.5-7B".
function normalizeModelName(model: string): string {
  const trimmed = model.trim().toLowerCase();
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

function assertTokenCount(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new ValidationError(field, 'must be a non-negative number');
}
