/**
 * Token usage as providers report it, normalised. A provider that sends no usage gives `null`: the
 * tokens are unknown, never 0. Prompt tokens include the cached and cache-written ones (OpenAI counts
 * them inside `prompt_tokens`; Anthropic reports them beside `input_tokens`), and completion tokens
 * include the reasoning ones, as both providers bill them.
 */
import { z } from 'zod';
import { LlmError } from '../errors.js';
import { estimateCost } from './pricing.js';

export interface LlmUsage {
  promptTokens: number | null;
  completionTokens: number | null;
  /** Prompt tokens read from the provider's prompt cache. */
  cachedPromptTokens: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic). */
  cacheWriteTokens: number;
  /** Completion tokens spent on hidden reasoning. */
  reasoningTokens: number;
}

const count = z.number().finite().min(0);

export const openAiUsageSchema = z.object({
  prompt_tokens: count.optional(),
  completion_tokens: count.optional(),
  prompt_tokens_details: z.object({ cached_tokens: count.nullish() }).nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: count.nullish() }).nullish(),
});

export const anthropicUsageSchema = z.object({
  input_tokens: count.optional(),
  output_tokens: count.optional(),
  cache_read_input_tokens: count.nullish(),
  cache_creation_input_tokens: count.nullish(),
});

/** OpenAI chat completions usage (also Ollama, vLLM, DeepSeek); null when the response carries none. */
export function parseOpenAiUsage(
  usage: z.infer<typeof openAiUsageSchema> | null | undefined,
): LlmUsage | null {
  if (!usage || (usage.prompt_tokens === undefined && usage.completion_tokens === undefined)) return null;
  return {
    promptTokens: usage.prompt_tokens ?? null,
    completionTokens: usage.completion_tokens ?? null,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** Anthropic Messages usage; `input_tokens` excludes the cache reads and writes, so they are added. */
export function parseAnthropicUsage(
  usage: z.infer<typeof anthropicUsageSchema> | null | undefined,
): LlmUsage | null {
  if (!usage || (usage.input_tokens === undefined && usage.output_tokens === undefined)) return null;
  const cached = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return {
    promptTokens: usage.input_tokens === undefined ? null : usage.input_tokens + cached + written,
    completionTokens: usage.output_tokens ?? null,
    cachedPromptTokens: cached,
    cacheWriteTokens: written,
    reasoningTokens: 0,
  };
}

/** Usage of several calls together: a count is known only when every call reported it. */
export function sumUsage(usages: readonly (LlmUsage | null)[]): LlmUsage | null {
  if (usages.length === 0) return null;
  const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  return usages.reduce<LlmUsage | null>((sum, usage, index) => {
    if (index === 0) return usage;
    if (sum === null || usage === null) return null;
    return {
      promptTokens: add(sum.promptTokens, usage.promptTokens),
      completionTokens: add(sum.completionTokens, usage.completionTokens),
      cachedPromptTokens: sum.cachedPromptTokens + usage.cachedPromptTokens,
      cacheWriteTokens: sum.cacheWriteTokens + usage.cacheWriteTokens,
      reasoningTokens: sum.reasoningTokens + usage.reasoningTokens,
    };
  }, null);
}

/**
 * What a series of LLM calls spent, as far as the providers said. Every answer is a paid call: its usage
 * is summed when the provider reported it; an answer without usage, and a call that ended without an
 * answer (a timeout, a dropped connection: the provider may have billed it), are unmetered. A call
 * refused with an HTTP error status, or that never reached the provider, was not billed and counts in
 * neither.
 */
export interface LlmSpend {
  /** Summed over the metered calls; null when no call reported usage. */
  usage: LlmUsage | null;
  meteredCalls: number;
  unmeteredCalls: number;
}

/** Nothing billed: no call reached a provider, or every one was refused with an error status. */
export const NO_SPEND: LlmSpend = Object.freeze({ usage: null, meteredCalls: 0, unmeteredCalls: 0 });

/** One call that may have been billed without reporting usage. */
export const ONE_UNMETERED_CALL: LlmSpend = Object.freeze({
  usage: null,
  meteredCalls: 0,
  unmeteredCalls: 1,
});

/** The spend of one answered call: metered when the provider reported usage. */
export function spendOfAnswer(usage: LlmUsage | null): LlmSpend {
  return usage === null ? ONE_UNMETERED_CALL : { usage, meteredCalls: 1, unmeteredCalls: 0 };
}

export function addSpend(...spends: readonly LlmSpend[]): LlmSpend {
  return spends.reduce<LlmSpend>(
    (sum, spend) => ({
      usage:
        sum.usage === null
          ? spend.usage
          : spend.usage === null
            ? sum.usage
            : sumUsage([sum.usage, spend.usage]),
      meteredCalls: sum.meteredCalls + spend.meteredCalls,
      unmeteredCalls: sum.unmeteredCalls + spend.unmeteredCalls,
    }),
    NO_SPEND,
  );
}

/** Whether any call may have been billed (there is something to record). */
export function hasSpend(spend: LlmSpend): boolean {
  return spend.meteredCalls + spend.unmeteredCalls > 0;
}

/**
 * The usage of every call together: known only when at least one call reported usage and no call may
 * have been billed without reporting it; else null (unknown, never 0).
 */
export function knownUsage(spend: LlmSpend): LlmUsage | null {
  return spend.unmeteredCalls > 0 ? null : spend.usage;
}

/** Tokens and cost as stored: each null when unknown; the cost also when the model has no price. */
export interface PricedSpend {
  promptTokens: number | null;
  completionTokens: number | null;
  cost: number | null;
}

export function priceSpend(model: string, spend: LlmSpend): PricedSpend {
  const usage = knownUsage(spend);
  const promptTokens = usage?.promptTokens ?? null;
  const completionTokens = usage?.completionTokens ?? null;
  const cost =
    usage === null || promptTokens === null || completionTokens === null
      ? null
      : estimateCost(model, promptTokens, completionTokens, usage);
  return { promptTokens, completionTokens, cost };
}

/**
 * A JSON answer that stayed invalid after every attempt. Each attempt was a paid call, so the error
 * carries what they spent for the caller to record (`usage` null when it is unknown).
 */
export class InvalidJsonAnswerError extends LlmError {
  readonly spend: LlmSpend;
  readonly usage: LlmUsage | null;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly attempts: number;

  constructor(message: string, spent: { spend: LlmSpend; attempts: number }) {
    super('llm_bad_response', message, { retryable: false });
    this.name = 'InvalidJsonAnswerError';
    this.spend = spent.spend;
    this.usage = knownUsage(spent.spend);
    this.promptTokens = this.usage?.promptTokens ?? null;
    this.completionTokens = this.usage?.completionTokens ?? null;
    this.attempts = spent.attempts;
  }
}
