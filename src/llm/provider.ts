/**
 * One interface for every LLM call Merit makes (agents, judge, peer reviews, command classifier).
 * Two wire protocols: OpenAI chat completions (OpenAI, Ollama, vLLM) and Anthropic Messages.
 * Transient failures (429, 408, 5xx, timeouts, dropped connections) are retried here, and only here,
 * with exponential backoff and full jitter, honouring Retry-After, within a budget of retries and wait.
 * Error messages are safe to show users (no URL, no provider body); the details go to the log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { LlmSettings } from '../config.js';
import { LlmError } from '../errors.js';
import { trackLlmCall } from '../status/llm-health.js';
import {
  addSpend,
  anthropicUsageSchema,
  hasSpend,
  InvalidJsonAnswerError,
  knownUsage,
  type LlmSpend,
  type LlmUsage,
  NO_SPEND,
  ONE_UNMETERED_CALL,
  openAiUsageSchema,
  parseAnthropicUsage,
  parseOpenAiUsage,
  spendOfAnswer,
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
  /**
   * Every call this answer took, the failed ones retried before it included (a timed-out call may have
   * been billed). Absent: the answer's own call only (read it with `spendOfResponse`).
   */
  spend?: LlmSpend;
  model: string;
  latencyMs: number;
};

export interface LlmProvider {
  readonly name: string;
  readonly model: string;
  complete(req: LlmRequest): Promise<LlmResponse>;
}

export type RetryPolicy = {
  /** Calls after the first one; 0 turns retrying off. */
  maxRetries: number;
  /** Ceiling of the first backoff wait; it doubles on each retry, up to MAX_BACKOFF_MS. */
  baseDelayMs: number;
  /** Sum of the waits between calls; a retry whose wait would go past it is not made. */
  maxTotalWaitMs: number;
};

/** A single call: for tests of one exchange and callers that retry on their own. */
export const NO_RETRIES: RetryPolicy = Object.freeze({ maxRetries: 0, baseDelayMs: 1, maxTotalWaitMs: 0 });

/** Where failed calls are reported with their details (pino's `warn` fits). */
export type LlmLog = { warn: (fields: Record<string, unknown>, message: string) => void };

export type LlmProviderSettings = {
  kind: 'openai' | 'anthropic';
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  /** Omitted: NO_RETRIES. Merit's own providers take the configured policy (createConfiguredLlmProvider). */
  retry?: RetryPolicy;
  log?: LlmLog;
  /** A number in [0, 1) for the backoff jitter; Math.random unless a test fixes it. */
  random?: () => number;
};

/**
 * A failed LLM call. `message` is for users; `detail` (the URL and the provider's answer) is for the log.
 * `retryAfterMs` is the provider's Retry-After, when it sent one. `spend` is what the failed call (and
 * the calls retried before it) may have cost: an error status is not billed; a call that ended without
 * an answer, or whose answer could not be read, may have been.
 */
export class LlmCallError extends LlmError {
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly detail: string;
  readonly attempts: number;
  readonly spend: LlmSpend;

  constructor(
    code: 'llm_unavailable' | 'llm_bad_response',
    message: string,
    options: {
      cause?: unknown;
      retryable: boolean;
      status?: number | null;
      retryAfterMs?: number | null;
      detail: string;
      attempts?: number;
      spend: LlmSpend;
    },
  ) {
    super(code, message, { cause: options.cause, retryable: options.retryable });
    this.name = 'LlmCallError';
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.detail = options.detail;
    this.attempts = options.attempts ?? 1;
    this.spend = options.spend;
  }

  /** The same failure, charged with `spend` (the calls made before it included). */
  withSpend(spend: LlmSpend): LlmCallError {
    return new LlmCallError(this.code as 'llm_unavailable' | 'llm_bad_response', this.message, {
      cause: this.cause,
      retryable: this.retryable,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      detail: this.detail,
      attempts: this.attempts,
      spend,
    });
  }
}

/** What an answer cost, its retried calls included. */
export function spendOfResponse(response: LlmResponse): LlmSpend {
  return response.spend ?? spendOfAnswer(response.usage);
}

/**
 * What a failed LLM call cost, as far as anyone can tell: the spend an LlmCallError or an
 * InvalidJsonAnswerError carries; any other error (a provider of another kind) may have been billed.
 */
export function spendOfError(error: unknown): LlmSpend {
  if (error instanceof LlmCallError || error instanceof InvalidJsonAnswerError) return error.spend;
  return ONE_UNMETERED_CALL;
}

// One backoff wait never exceeds this, however many retries are allowed.
const MAX_BACKOFF_MS = 8_000;

export const ANTHROPIC_VERSION = '2023-06-01';

// Anthropic requires max_tokens; this is enough for a judge verdict or a peer review.
const DEFAULT_ANTHROPIC_MAX_TOKENS = 1024;

// Keeps error messages readable when a provider answers with a whole HTML page.
const ERROR_BODY_SNIPPET_CHARS = 300;

export function createLlmProvider(settings: LlmProviderSettings): LlmProvider {
  const baseUrl = settings.baseUrl.replace(/\/+$/, '');
  const send = settings.kind === 'openai' ? sendOpenAiRequest : sendAnthropicRequest;
  const resolved = { ...settings, baseUrl };
  return {
    name: settings.kind,
    model: settings.model,
    // The status page shows each model's last outcome (src/status/llm-health.ts).
    complete: (req) =>
      trackLlmCall(
        settings.model,
        req.signal,
        completeWithRetries(resolved, req, () => send(resolved, req)),
      ),
  };
}

/** A provider from Merit's configuration: its endpoint, key, timeout and retry policy, on `model`. */
export function createConfiguredLlmProvider(
  llm: LlmSettings,
  options: { model?: string; timeoutMs?: number; log?: LlmLog | undefined } = {},
): LlmProvider {
  return createLlmProvider({
    kind: llm.kind,
    baseUrl: llm.baseUrl,
    ...(llm.apiKey ? { apiKey: llm.apiKey } : {}),
    model: options.model ?? llm.model,
    timeoutMs: options.timeoutMs ?? llm.timeoutMs,
    retry: llm.retry,
    ...(options.log ? { log: options.log } : {}),
  });
}

/**
 * Calls `send` until it succeeds, fails for good, or the retry budget is spent. The wait before retry n
 * is the provider's Retry-After when given, else uniform in [0, min(MAX_BACKOFF_MS, base * 2^(n-1))]
 * ("full jitter", so callers that failed together do not retry together). The final error says how many
 * calls were made.
 */
async function completeWithRetries(
  settings: LlmProviderSettings,
  req: LlmRequest,
  send: () => Promise<LlmResponse>,
): Promise<LlmResponse> {
  const policy = settings.retry ?? NO_RETRIES;
  const random = settings.random ?? Math.random;
  let waitedMs = 0;
  // The failed calls before the current one: a timed-out call may have been billed.
  let spent: LlmSpend = NO_SPEND;
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await send();
      return attempt === 1 ? response : { ...response, spend: addSpend(spent, spendOfResponse(response)) };
    } catch (caught) {
      if (!(caught instanceof LlmCallError)) throw caught;
      spent = addSpend(spent, caught.spend);
      const error = attempt === 1 ? caught : caught.withSpend(spent);
      const waitMs = planRetryWait(error, attempt, waitedMs, policy, random);
      settings.log?.warn(
        {
          event: 'llm_call_failed',
          provider: settings.kind,
          model: settings.model,
          attempt,
          status: error.status,
          retryable: error.retryable,
          retry_after_ms: error.retryAfterMs,
          retry_in_ms: waitMs,
          detail: error.detail,
        },
        waitMs === null ? `LLM call failed: ${error.message}` : `LLM call failed, retrying: ${error.message}`,
      );
      if (waitMs === null) throw describeFinalError(error, attempt, policy);
      try {
        await sleep(waitMs, undefined, req.signal ? { signal: req.signal } : {});
      } catch (aborted) {
        throw new LlmCallError('llm_unavailable', 'LLM request was aborted by the caller', {
          cause: aborted,
          retryable: false,
          detail: `aborted while waiting ${waitMs} ms to retry after: ${error.detail}`,
          attempts: attempt,
          spend: spent,
        });
      }
      waitedMs += waitMs;
    }
  }
}

/** The wait before the next call, or null when the error is final or the budget would be overrun. */
export function planRetryWait(
  error: Pick<LlmCallError, 'retryable' | 'retryAfterMs'>,
  attempt: number,
  waitedMs: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | null {
  if (!error.retryable || attempt > policy.maxRetries) return null;
  const ceiling = Math.min(MAX_BACKOFF_MS, policy.baseDelayMs * 2 ** (attempt - 1));
  const waitMs = error.retryAfterMs ?? Math.floor(random() * ceiling);
  return waitedMs + waitMs > policy.maxTotalWaitMs ? null : waitMs;
}

// The error users see: the last call's reason, how many calls were made, and why retrying stopped.
function describeFinalError(error: LlmCallError, attempts: number, policy: RetryPolicy): LlmCallError {
  if (!error.retryable || policy.maxRetries === 0) return error;
  const budgetSpent = attempts <= policy.maxRetries;
  const count = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  const message = budgetSpent
    ? `${error.message}; gave up after ${count}: the wait for a retry would exceed the ${policy.maxTotalWaitMs} ms retry budget`
    : `${error.message}; gave up after ${count}`;
  return new LlmCallError(error.code as 'llm_unavailable' | 'llm_bad_response', message, {
    cause: error,
    retryable: error.retryable,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    detail: error.detail,
    attempts,
    spend: error.spend,
  });
}

/**
 * Retry-After as milliseconds: delay-seconds ("120", also fractional) or an HTTP date; OpenAI's
 * retry-after-ms when present. Null when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | null {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds.trim())) {
    return Math.ceil(Number(milliseconds.trim()));
  }
  const value = headers.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // An HTTP date names its day and month; anything else (a negative number, "soon") is unreadable.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
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
    throw new LlmCallError('llm_bad_response', 'OpenAI response has no message content', {
      retryable: false,
      detail: snippet(JSON.stringify(body)),
      spend: spendOfAnswer(parseOpenAiUsage(parsed.usage)),
    });
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
    throw new LlmCallError('llm_bad_response', 'Anthropic response has no text content', {
      retryable: false,
      detail: snippet(JSON.stringify(body)),
      spend: spendOfAnswer(parseAnthropicUsage(parsed.usage)),
    });
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

/** POSTs JSON and returns the decoded body; maps transport and status failures to LlmCallError. */
async function postJson(
  url: string,
  headers: Record<string, string>,
  payload: Record<string, unknown>,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let raw: string;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload), signal });
    raw = await response.text();
  } catch (error) {
    throw toTransportError(error, url, options);
  }
  if (response.status < 200 || response.status >= 300) throw toStatusError(response, raw, url);
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new LlmCallError('llm_bad_response', 'LLM provider answered with a body that is not JSON', {
      cause: error,
      retryable: false,
      status: response.status,
      detail: `POST ${url} answered HTTP ${response.status} with a body that is not JSON: ${snippet(raw)}`,
      // An answer was given, and may have been billed, but its usage cannot be read.
      spend: ONE_UNMETERED_CALL,
    });
  }
}

function toTransportError(
  error: unknown,
  url: string,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): LlmCallError {
  const detail = `POST ${url}: ${describeCause(error)}`;
  // The caller cancelled on purpose, so retrying would work against it.
  if (options.signal?.aborted) {
    return new LlmCallError('llm_unavailable', 'LLM request was aborted by the caller', {
      cause: error,
      retryable: false,
      detail,
      spend: ONE_UNMETERED_CALL,
    });
  }
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const code = findErrorCode(error);
  const message = timedOut
    ? `LLM request timed out after ${options.timeoutMs} ms`
    : `LLM provider is unreachable${code ? ` (${code})` : ''}`;
  // A request that never reached the provider cost nothing; one cut off on its way may have been billed.
  const spend = code !== null && UNSENT_ERROR_CODES.has(code) ? NO_SPEND : ONE_UNMETERED_CALL;
  return new LlmCallError('llm_unavailable', message, { cause: error, retryable: true, detail, spend });
}

// Socket errors raised before a request is sent: nothing reached the provider.
const UNSENT_ERROR_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function toStatusError(response: Response, raw: string, url: string): LlmCallError {
  const status = response.status;
  // Rate limits, request timeouts and server errors are transient; other 4xx mean our request is wrong.
  const retryable = status === 429 || status === 408 || status >= 500;
  return new LlmCallError(
    'llm_unavailable',
    `LLM provider answered HTTP ${status} (${describeStatus(status)})`,
    {
      retryable,
      status,
      retryAfterMs: retryable ? parseRetryAfter(response.headers) : null,
      detail: `POST ${url} answered HTTP ${status}: ${snippet(raw)}`,
      // Providers do not bill a request they answer with an error status.
      spend: NO_SPEND,
    },
  );
}

// What a user can act on, without the provider's own text (which may echo a key or the request).
function describeStatus(status: number): string {
  if (status === 400) return 'the request was rejected';
  if (status === 401) return 'authentication failed: check the API key';
  if (status === 403) return 'access denied: check the API key and model';
  if (status === 404) return 'not found: check the base URL and model';
  if (status === 408) return 'request timeout';
  if (status === 413) return 'the request is too large';
  if (status === 422) return 'the request was rejected';
  if (status === 429) return 'rate limited';
  if (status === 529) return 'overloaded';
  if (status >= 500) return 'provider error';
  return 'unexpected status';
}

function snippet(raw: string): string {
  return raw.slice(0, ERROR_BODY_SNIPPET_CHARS);
}

// Node's fetch hides the socket error (ECONNREFUSED, ECONNRESET...) in `cause`.
function findErrorCode(error: unknown): string | null {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' <- ');
}

function parseProviderBody<T>(schema: z.ZodType<T>, body: unknown, protocol: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new LlmCallError('llm_bad_response', `${protocol} response has an unexpected shape`, {
      cause: result.error,
      retryable: false,
      detail: `${z.prettifyError(result.error)}: ${snippet(JSON.stringify(body) ?? '')}`,
      spend: ONE_UNMETERED_CALL,
    });
  }
  return result.data;
}

export type JsonCompletion<T> = {
  value: T;
  /** 0 when unknown: read `usage` (or `spend`) to tell unknown from zero. */
  promptTokens: number;
  completionTokens: number;
  /** Summed over every attempt; null when any attempt's usage is unknown. */
  usage: LlmUsage | null;
  /** Every call the answer took: the attempts and the provider's retries. */
  spend: LlmSpend;
  attempts: number;
  model: string;
};

/**
 * Asks for a JSON answer and validates it with `schema`. A malformed or invalid answer is sent back with
 * the validation problem and asked again, up to `maxAttempts` calls in all; then throws
 * `InvalidJsonAnswerError` (an `LlmError('llm_bad_response', retryable false)` carrying the spend).
 * Provider errors propagate, charged with the spend of the attempts before them (an LlmCallError's
 * `spend`). Usage is summed over every attempt, because every attempt is paid for.
 */
export async function completeJson<T>(
  provider: LlmProvider,
  request: LlmRequest,
  schema: z.ZodType<T>,
  options: { maxAttempts: number },
): Promise<JsonCompletion<T>> {
  const messages = [...request.messages];
  let spent: LlmSpend = NO_SPEND;
  let lastProblem = '';
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    let response: LlmResponse;
    try {
      response = await provider.complete({ ...request, messages });
    } catch (error) {
      throw chargeEarlierAttempts(error, spent);
    }
    spent = addSpend(spent, spendOfResponse(response));
    const checked = validateJsonText(response.text, schema);
    if (checked.ok) {
      const usage = knownUsage(spent);
      return {
        value: checked.value,
        promptTokens: usage?.promptTokens ?? 0,
        completionTokens: usage?.completionTokens ?? 0,
        usage,
        spend: spent,
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
  throw new InvalidJsonAnswerError(
    `${provider.name}/${provider.model} gave no valid JSON answer in ${options.maxAttempts} attempts: ${lastProblem}`,
    { spend: spent, attempts: options.maxAttempts },
  );
}

// A provider failure after paid attempts carries their spend too; other errors (bugs) pass unchanged.
function chargeEarlierAttempts(error: unknown, spent: LlmSpend): unknown {
  if (!hasSpend(spent) || !(error instanceof LlmError)) return error;
  const spend = addSpend(spent, spendOfError(error));
  if (error instanceof LlmCallError) return error.withSpend(spend);
  return new LlmCallError(error.code as 'llm_unavailable' | 'llm_bad_response', error.message, {
    cause: error,
    retryable: error.retryable,
    detail: error.message,
    spend,
  });
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
