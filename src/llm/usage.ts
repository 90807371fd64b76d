/**
 * Token usage as providers report it, normalised. A provider that sends no usage gives `null`: the
 * tokens are unknown, never 0. Prompt tokens include the cached and cache-written ones (OpenAI counts
 * them inside `prompt_tokens`; Anthropic reports them beside `input_tokens`), and completion tokens
 * include the reasoning ones, as both providers bill them.
 */
import { z } from 'zod';
import { LlmError } from '../errors.js';

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
 * A JSON answer that stayed invalid after every attempt. Each attempt was a paid call, so the error
 * carries their summed usage for the caller to record (`usage` null when any attempt reported none).
 */
export class InvalidJsonAnswerError extends LlmError {
  readonly usage: LlmUsage | null;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly attempts: number;

  constructor(message: string, spent: { usage: LlmUsage | null; attempts: number }) {
    super('llm_bad_response', message, { retryable: false });
    this.name = 'InvalidJsonAnswerError';
    this.usage = spent.usage;
    this.promptTokens = spent.usage?.promptTokens ?? 0;
    this.completionTokens = spent.usage?.completionTokens ?? 0;
    this.attempts = spent.attempts;
  }
}
