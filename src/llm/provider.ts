/**
 * One interface for every LLM call Merit makes (judge, peer reviews, simulated agents).
 * Two wire protocols: OpenAI chat completions (OpenAI, Ollama, vLLM) and Anthropic Messages.
 */
import { z } from 'zod';
import { LlmError } from '../errors.js';
import {
  anthropicUsageSchema,
  type LlmUsage,
  openAiUsageSchema,
  parseAnthropicUsage,
  parseOpenAiUsage,
} from './usage.js';

export type LlmMessage = { role: 'user' | 'assistant'; content: string };

export type LlmRequest = {
  system: string;
  messages: LlmMessage[];
  temperature?: number;
  maxTokens?: number;
  /** Ask for JSON matching this schema (OpenAI: response_format json_schema; Anthropic: system instruction). */
  jsonSchema?: { name: string; schema: object };
  signal?: AbortSignal;
  /** Overrides the provider's default timeout for this call. */
  timeoutMs?: number;
};

export type LlmResponse = {
  text: string;
  /** 0 when the provider reported no usage: read `usage` to tell unknown from zero. */
  promptTokens: number;
  completionTokens: number;
  /** The reported usage with its cached and reasoning parts; null when the provider sent none. */
  usage: LlmUsage | null;
  model: string;
  latencyMs: number;
};

export interface LlmProvider {
  readonly name: string;
  readonly model: string;
  complete(req: LlmRequest): Promise<LlmResponse>;
}

export type LlmProviderSettings = {
  kind: 'openai' | 'anthropic';
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
};

export const ANTHROPIC_VERSION = '2023-06-01';

// Anthropic requires max_tokens; this is enough for a judge verdict or a peer review.
const DEFAULT_ANTHROPIC_MAX_TOKENS = 1024;

// Keeps error messages readable when a provider answers with a whole HTML page.
const ERROR_BODY_SNIPPET_CHARS = 300;

export function createLlmProvider(settings: LlmProviderSettings): LlmProvider {
  const baseUrl = settings.baseUrl.replace(/\/+$/, '');
  const send = settings.kind === 'openai' ? sendOpenAiRequest : sendAnthropicRequest;
  return {
    name: settings.kind,
    model: settings.model,
    complete: (req) => send({ ...settings, baseUrl }, req),
  };
}

const openAiResponseSchema = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }) })).min(1),
  usage: openAiUsageSchema.nullish(),
});

async function sendOpenAiRequest(settings: LlmProviderSettings, req: LlmRequest): Promise<LlmResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  const started = performance.now();
  const body = await postJson(
    `${settings.baseUrl}/chat/completions`,
    headers,
    buildOpenAiBody(settings, req),
    {
      timeoutMs: req.timeoutMs ?? settings.timeoutMs,
      signal: req.signal,
    },
  );
  const parsed = parseProviderBody(openAiResponseSchema, body, 'OpenAI');
  const text = parsed.choices[0]?.message.content;
  if (typeof text !== 'string') {
    throw new LlmError('llm_bad_response', 'OpenAI response has no message content', { retryable: false });
  }
  return {
    text,
    ...withUsage(parseOpenAiUsage(parsed.usage)),
    model: parsed.model ?? settings.model,
    latencyMs: Math.round(performance.now() - started),
  };
}

function buildOpenAiBody(settings: LlmProviderSettings, req: LlmRequest): Record<string, unknown> {
  // OpenAI's o-series reasoning models reject max_tokens and a custom temperature.
  const isReasoningModel = /^o\d/.test(settings.model);
  const body: Record<string, unknown> = {
    model: settings.model,
    messages: [{ role: 'system', content: req.system }, ...req.messages],
  };
  if (req.temperature !== undefined && !isReasoningModel) body.temperature = req.temperature;
  if (req.maxTokens !== undefined)
    body[isReasoningModel ? 'max_completion_tokens' : 'max_tokens'] = req.maxTokens;
  if (req.jsonSchema) {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: req.jsonSchema.name, schema: req.jsonSchema.schema },
    };
  }
  return body;
}

const anthropicResponseSchema = z.object({
  model: z.string().optional(),
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  usage: anthropicUsageSchema.nullish(),
});

// Callers that predate `usage` read the two counts; unknown counts read 0 there, null in `usage`.
function withUsage(usage: LlmUsage | null) {
  return { promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0, usage };
}

async function sendAnthropicRequest(settings: LlmProviderSettings, req: LlmRequest): Promise<LlmResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
  };
  if (settings.apiKey) headers['x-api-key'] = settings.apiKey;
  // Accept both "https://api.anthropic.com" and ".../v1" as the base URL.
  const root = settings.baseUrl.replace(/\/v1$/, '');
  const started = performance.now();
  const body = await postJson(`${root}/v1/messages`, headers, buildAnthropicBody(settings, req), {
    timeoutMs: req.timeoutMs ?? settings.timeoutMs,
    signal: req.signal,
  });
  const parsed = parseProviderBody(anthropicResponseSchema, body, 'Anthropic');
  const textBlocks = parsed.content.filter(
    (block) => block.type === 'text' && typeof block.text === 'string',
  );
  if (textBlocks.length === 0) {
    throw new LlmError('llm_bad_response', 'Anthropic response has no text content', { retryable: false });
  }
  return {
    text: textBlocks.map((block) => block.text).join(''),
    ...withUsage(parseAnthropicUsage(parsed.usage)),
    model: parsed.model ?? settings.model,
    latencyMs: Math.round(performance.now() - started),
  };
}

function buildAnthropicBody(settings: LlmProviderSettings, req: LlmRequest): Record<string, unknown> {
  // The Messages API has no response_format, so the schema travels as an instruction.
  const system = req.jsonSchema
    ? `${req.system}\n\nReply with only a JSON object (no prose, no code fence) matching this JSON Schema:\n${JSON.stringify(req.jsonSchema.schema)}`
    : req.system;
  const body: Record<string, unknown> = {
    model: settings.model,
    system,
    messages: req.messages,
    max_tokens: req.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
  };
  if (req.temperature !== undefined) body.temperature = req.temperature;
  return body;
}

/** POSTs JSON and returns the decoded body; maps transport and status failures to LlmError. */
async function postJson(
  url: string,
  headers: Record<string, string>,
  payload: Record<string, unknown>,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let raw: string;
  let status: number;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload), signal });
    status = response.status;
    raw = await response.text();
  } catch (error) {
    throw toTransportError(error, url, options);
  }
  if (status < 200 || status >= 300) throw toStatusError(status, raw, url);
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new LlmError('llm_bad_response', `LLM provider at ${url} answered with a body that is not JSON`, {
      cause: error,
      retryable: false,
    });
  }
}

function toTransportError(
  error: unknown,
  url: string,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): LlmError {
  // The caller cancelled on purpose, so retrying would work against it.
  if (options.signal?.aborted) {
    return new LlmError('llm_unavailable', `LLM request to ${url} was aborted by the caller`, {
      cause: error,
      retryable: false,
    });
  }
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const message = timedOut
    ? `LLM request to ${url} timed out after ${options.timeoutMs} ms`
    : `LLM provider at ${url} is unreachable`;
  return new LlmError('llm_unavailable', message, { cause: error, retryable: true });
}

function toStatusError(status: number, raw: string, url: string): LlmError {
  // Rate limits, request timeouts and server errors are transient; other 4xx mean our request is wrong.
  const retryable = status === 429 || status === 408 || status >= 500;
  const snippet = raw.slice(0, ERROR_BODY_SNIPPET_CHARS);
  return new LlmError('llm_unavailable', `LLM provider at ${url} answered HTTP ${status}: ${snippet}`, {
    retryable,
  });
}

function parseProviderBody<T>(schema: z.ZodType<T>, body: unknown, protocol: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new LlmError('llm_bad_response', `${protocol} response has an unexpected shape`, {
      cause: result.error,
      retryable: false,
    });
  }
  return result.data;
}

export type JsonCompletion<T> = {
  value: T;
  promptTokens: number;
  completionTokens: number;
  attempts: number;
  model: string;
};

/**
 * Asks for a JSON answer and validates it with `schema`. A malformed or invalid answer is sent back with
 * the validation problem and asked again, up to `maxAttempts` calls in all; then throws
 * `LlmError('llm_bad_response', retryable false)`. Provider errors propagate unchanged.
 * Token usage is summed over every attempt, because every attempt is paid for.
 */
export async function completeJson<T>(
  provider: LlmProvider,
  request: LlmRequest,
  schema: z.ZodType<T>,
  options: { maxAttempts: number },
): Promise<JsonCompletion<T>> {
  const messages = [...request.messages];
  let promptTokens = 0;
  let completionTokens = 0;
  let lastProblem = '';
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const response = await provider.complete({ ...request, messages });
    promptTokens += response.promptTokens;
    completionTokens += response.completionTokens;
    const checked = validateJsonText(response.text, schema);
    if (checked.ok) {
      return {
        value: checked.value,
        promptTokens,
        completionTokens,
        attempts: attempt,
        model: response.model,
      };
    }
    lastProblem = checked.problem;
    messages.push(
      { role: 'assistant', content: response.text },
      {
        role: 'user',
        content: `Your previous reply was not valid: ${checked.problem}. Reply again with only the corrected JSON object.`,
      },
    );
  }
  throw new LlmError(
    'llm_bad_response',
    `${provider.name}/${provider.model} gave no valid JSON answer in ${options.maxAttempts} attempts: ${lastProblem}`,
    { retryable: false },
  );
}

type JsonCheck<T> = { ok: true; value: T } | { ok: false; problem: string };

function validateJsonText<T>(text: string, schema: z.ZodType<T>): JsonCheck<T> {
  let data: unknown;
  try {
    data = JSON.parse(extractJsonObject(text));
  } catch {
    return { ok: false, problem: 'it is not a JSON object' };
  }
  const result = schema.safeParse(data);
  if (!result.success) return { ok: false, problem: z.prettifyError(result.error).slice(0, 500) };
  return { ok: true, value: result.data };
}

/** Models often wrap JSON in a code fence or a sentence; keep the outermost {...}. */
export function extractJsonObject(text: string): string {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  return start >= 0 && end > start ? text.slice(start, end + 1) : text;
}
