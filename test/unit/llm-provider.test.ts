import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { LlmError } from '../../src/errors.js';
import {
  completeJson,
  createLlmProvider,
  extractJsonObject,
  type LlmCallError,
  NO_RETRIES,
  parseRetryAfter,
  planRetryWait,
  type RetryPolicy,
} from '../../src/llm/provider.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';

let server: FakeLlmServer;

beforeAll(async () => {
  server = await startFakeLlmServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
});

function openAi(model = 'gpt-4o-mini', timeoutMs = 2_000) {
  return createLlmProvider({ kind: 'openai', baseUrl: server.baseUrl, apiKey: 'sk-test', model, timeoutMs });
}

function anthropic(timeoutMs = 2_000) {
  return createLlmProvider({
    kind: 'anthropic',
    baseUrl: server.baseUrl,
    apiKey: 'anthropic-test',
    model: 'claude-3-5-haiku-20241022',
    timeoutMs,
  });
}

async function captureError(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

const simpleRequest = { system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hi' }] };

describe('OpenAI chat completions protocol', () => {
  it('returns the text, usage figures and model from the response', async () => {
    server.script([{ text: 'Hello there', usage: { promptTokens: 42, completionTokens: 7 } }]);
    const response = await openAi().complete({ ...simpleRequest, temperature: 0, maxTokens: 50 });
    expect(response.text).toBe('Hello there');
    expect(response.promptTokens).toBe(42);
    expect(response.completionTokens).toBe(7);
    expect(response.model).toBe('gpt-4o-mini');
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('sends the system prompt first, the bearer key, temperature and max_tokens', async () => {
    server.script([{ text: 'ok' }]);
    await openAi().complete({ ...simpleRequest, temperature: 0, maxTokens: 50 });
    const [request] = server.requests;
    expect(request?.path).toBe('/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hi' },
      ],
      temperature: 0,
      max_tokens: 50,
    });
  });

  it('asks for a json_schema response format when a schema is given', async () => {
    server.script([{ json: { ok: true } }]);
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const response = await openAi().complete({ ...simpleRequest, jsonSchema: { name: 'flag', schema } });
    expect(JSON.parse(response.text)).toEqual({ ok: true });
    expect(server.requests[0]?.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'flag', schema },
    });
  });

  it('uses max_completion_tokens and no temperature for o-series models', async () => {
    server.script([{ text: 'ok' }]);
    await openAi('o3-mini').complete({ ...simpleRequest, temperature: 0, maxTokens: 50 });
    const body = server.requests[0]?.body;
    expect(body?.max_completion_tokens).toBe(50);
    expect(body).not.toHaveProperty('max_tokens');
    expect(body).not.toHaveProperty('temperature');
  });

  it('treats 429 as a retryable llm_unavailable error', async () => {
    server.script([{ status: 429 }]);
    const error = await captureError(openAi().complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('HTTP 429');
  });

  it('treats 500 as a retryable llm_unavailable error', async () => {
    server.script([{ status: 500 }]);
    const error = await captureError(openAi().complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('treats 400 as a non-retryable error', async () => {
    server.script([{ status: 400, body: { error: { message: 'bad model' } } }]);
    const error = await captureError(openAi().complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(false);
    // The provider's own text goes to the log, never into the message users see.
    expect(error.message).not.toContain('bad model');
    expect((error as LlmCallError).detail).toContain('bad model');
  });

  it('times out a slow answer with a retryable error', async () => {
    server.script([{ delayMs: 500, text: 'too late' }]);
    const error = await captureError(openAi('gpt-4o-mini', 100).complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out after 100 ms');
  });

  it('lets a per-request timeout override the provider default', async () => {
    server.script([{ delayMs: 300, text: 'too late' }]);
    const error = await captureError(
      openAi('gpt-4o-mini', 5_000).complete({ ...simpleRequest, timeoutMs: 50 }),
    );
    expect(error.message).toContain('timed out after 50 ms');
  });

  it('does not retry a request the caller aborted', async () => {
    server.script([{ delayMs: 500, text: 'too late' }]);
    const controller = new AbortController();
    const pending = openAi().complete({ ...simpleRequest, signal: controller.signal });
    // Aborted once the server has it, so the request cannot reach the server during a later test.
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();
    const error = await captureError(pending);
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(false);
  });

  it('reports an unreachable server as retryable', async () => {
    const closed = await startFakeLlmServer();
    await closed.close();
    const provider = createLlmProvider({
      kind: 'openai',
      baseUrl: closed.baseUrl,
      model: 'x',
      timeoutMs: 1_000,
    });
    const error = await captureError(provider.complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('reports a body that is not JSON as llm_bad_response', async () => {
    server.script([{ status: 200, body: '<html>gateway</html>' }]);
    const error = await captureError(openAi().complete(simpleRequest));
    expect(error.code).toBe('llm_bad_response');
    expect(error.retryable).toBe(false);
  });

  it('reports a JSON body without choices as llm_bad_response', async () => {
    server.script([{ status: 200, body: { id: 'x', choices: [] } }]);
    const error = await captureError(openAi().complete(simpleRequest));
    expect(error.code).toBe('llm_bad_response');
  });

  it('passes malformed content through as text (judging it is the caller’s job)', async () => {
    server.script([{ malformed: true }]);
    const response = await openAi().complete(simpleRequest);
    expect(() => JSON.parse(response.text)).toThrow();
  });

  it('strips a trailing slash from the base URL', async () => {
    server.script([{ text: 'ok' }]);
    const provider = createLlmProvider({
      kind: 'openai',
      baseUrl: `${server.baseUrl}/`,
      model: 'm',
      timeoutMs: 1_000,
    });
    await provider.complete(simpleRequest);
    expect(server.requests[0]?.path).toBe('/chat/completions');
  });
});

describe('Anthropic messages protocol', () => {
  it('returns the text and usage figures from input_tokens and output_tokens', async () => {
    server.script([{ text: 'Hi from Claude', usage: { promptTokens: 31, completionTokens: 5 } }]);
    const response = await anthropic().complete(simpleRequest);
    expect(response).toMatchObject({
      text: 'Hi from Claude',
      promptTokens: 31,
      completionTokens: 5,
      model: 'claude-3-5-haiku-20241022',
    });
  });

  it('sends x-api-key, anthropic-version, a top-level system prompt and a default max_tokens', async () => {
    server.script([{ text: 'ok' }]);
    await anthropic().complete({ ...simpleRequest, temperature: 0 });
    const [request] = server.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe('anthropic-test');
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.body).toEqual({
      model: 'claude-3-5-haiku-20241022',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Say hi' }],
      max_tokens: 1024,
      temperature: 0,
    });
  });

  it('puts the JSON schema into the system prompt', async () => {
    server.script([{ json: { ok: true } }]);
    await anthropic().complete({
      ...simpleRequest,
      jsonSchema: { name: 'flag', schema: { type: 'object' } },
    });
    expect(server.requests[0]?.body.system).toContain('{"type":"object"}');
  });

  it('accepts a base URL that already ends in /v1', async () => {
    server.script([{ text: 'ok' }]);
    const provider = createLlmProvider({
      kind: 'anthropic',
      baseUrl: `${server.baseUrl}/v1`,
      model: 'claude-sonnet-4-20250514',
      timeoutMs: 1_000,
    });
    await provider.complete(simpleRequest);
    expect(server.requests[0]?.path).toBe('/v1/messages');
  });

  it('treats 529-style overload and 503 as retryable', async () => {
    server.script([{ status: 529 }, { status: 503 }]);
    expect((await captureError(anthropic().complete(simpleRequest))).retryable).toBe(true);
    expect((await captureError(anthropic().complete(simpleRequest))).retryable).toBe(true);
  });

  it('treats 401 as non-retryable', async () => {
    server.script([{ status: 401 }]);
    const error = await captureError(anthropic().complete(simpleRequest));
    expect(error.retryable).toBe(false);
  });

  it('times out a slow answer with a retryable error', async () => {
    server.script([{ delayMs: 500, text: 'late' }]);
    const error = await captureError(anthropic(100).complete(simpleRequest));
    expect(error.code).toBe('llm_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('reports a message without text blocks as llm_bad_response', async () => {
    server.script([{ status: 200, body: { content: [], usage: { input_tokens: 1, output_tokens: 0 } } }]);
    const error = await captureError(anthropic().complete(simpleRequest));
    expect(error.code).toBe('llm_bad_response');
  });
});

describe('completeJson', () => {
  const schema = z.object({ value: z.number().min(0).max(1) });

  it('asks again with the problem pointed out and sums usage over attempts', async () => {
    server.script([
      { malformed: true, usage: { promptTokens: 10, completionTokens: 2 } },
      { json: { value: 0.5 }, usage: { promptTokens: 20, completionTokens: 3 } },
    ]);
    const answer = await completeJson(openAi(), simpleRequest, schema, { maxAttempts: 3 });
    expect(answer).toMatchObject({
      value: { value: 0.5 },
      promptTokens: 30,
      completionTokens: 5,
      attempts: 2,
    });
    const retryMessages = server.requests[1]?.body.messages as { role: string; content: string }[];
    expect(retryMessages).toHaveLength(4);
    expect(retryMessages[2]?.role).toBe('assistant');
    expect(retryMessages[3]?.content).toContain('not valid');
  });

  it('throws a non-retryable llm_bad_response after maxAttempts bad answers', async () => {
    server.script([{ json: { value: 3 } }, { json: { value: -1 } }]);
    const error = await captureError(completeJson(openAi(), simpleRequest, schema, { maxAttempts: 2 }));
    expect(error.code).toBe('llm_bad_response');
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(2);
  });

  it('finds the JSON object inside a code fence', () => {
    expect(extractJsonObject('```json\n{"a": 1}\n```')).toBe('{"a": 1}');
  });
});

describe('fake LLM server fallback', () => {
  it('answers 500 when the script is empty, and uses a configured fallback', async () => {
    const error = await captureError(openAi().complete(simpleRequest));
    expect((error as LlmCallError).detail).toContain('no scripted reply left');
    server.setFallback(() => ({ text: 'fallback answer' }));
    expect((await openAi().complete(simpleRequest)).text).toBe('fallback answer');
  });
});

describe('retries of transient failures', () => {
  const FAST: RetryPolicy = { maxRetries: 3, baseDelayMs: 10, maxTotalWaitMs: 5_000 };

  function retrying(policy: RetryPolicy = FAST, timeoutMs = 2_000) {
    const logged: { fields: Record<string, unknown>; message: string }[] = [];
    const provider = createLlmProvider({
      kind: 'openai',
      baseUrl: server.baseUrl,
      apiKey: 'sk-test',
      model: 'gpt-4o-mini',
      timeoutMs,
      retry: policy,
      log: { warn: (fields, message) => logged.push({ fields, message }) },
    });
    return { provider, logged };
  }

  const gapsBetweenRequests = () =>
    server.requests
      .slice(1)
      .map((request, index) => request.receivedAt - (server.requests[index]?.receivedAt ?? 0));

  it('waits the Retry-After seconds after a 429, then succeeds', async () => {
    server.script([{ status: 429, headers: { 'retry-after': '1' } }, { text: 'ok' }]);
    const { provider, logged } = retrying();
    expect((await provider.complete(simpleRequest)).text).toBe('ok');
    expect(server.requests).toHaveLength(2);
    // Measured where the requests arrive; the jittered backoff alone would be under 10 ms.
    expect(gapsBetweenRequests()[0]).toBeGreaterThanOrEqual(990);
    expect(logged).toMatchObject([{ fields: { status: 429, retry_after_ms: 1000, retry_in_ms: 1000 } }]);
  });

  it('retries a 500, a dropped connection and a timeout, then succeeds', async () => {
    server.script([{ status: 500 }, { reset: true }, { delayMs: 500, text: 'late' }, { text: 'ok' }]);
    const { provider } = retrying(FAST, 200);
    expect((await provider.complete(simpleRequest)).text).toBe('ok');
    expect(server.requests).toHaveLength(4);
  });

  it('waits the full-jitter backoff: uniform below base * 2^(retry - 1), capped at 8 s', () => {
    const policy = { maxRetries: 10, baseDelayMs: 500, maxTotalWaitMs: 600_000 };
    const transient = { retryable: true, retryAfterMs: null };
    expect(planRetryWait(transient, 1, 0, policy, () => 0.999)).toBe(499);
    expect(planRetryWait(transient, 3, 0, policy, () => 0.999)).toBe(1998);
    expect(planRetryWait(transient, 3, 0, policy, () => 0)).toBe(0);
    expect(planRetryWait(transient, 9, 0, policy, () => 0.999)).toBe(7992);
  });

  it('gives up after the allowed retries, saying how many calls were made', async () => {
    server.setFallback(() => ({ status: 503, body: 'upstream says no at 10.0.0.7' }));
    const { provider } = retrying({ ...FAST, maxRetries: 2 });
    const error = await captureError(provider.complete(simpleRequest));
    expect(server.requests).toHaveLength(3);
    expect(error.message).toBe('LLM provider answered HTTP 503 (provider error); gave up after 3 attempts');
    expect(error.retryable).toBe(true);
  });

  it('stops when a Retry-After would overrun the wait budget', async () => {
    server.setFallback(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const { provider } = retrying();
    const error = await captureError(provider.complete(simpleRequest));
    expect(server.requests).toHaveLength(1);
    expect(error.message).toContain('HTTP 429 (rate limited); gave up after 1 attempt');
    expect(error.message).toContain('5000 ms retry budget');
  });

  it('never retries 400, 401, 403, 404 or a body that breaks the protocol', async () => {
    for (const reply of [
      { status: 400 },
      { status: 401, body: { error: { message: 'Incorrect API key provided: sk-te****st' } } },
      { status: 403 },
      { status: 404 },
      { status: 200, body: { id: 'x', choices: [] } },
    ]) {
      server.reset();
      server.setFallback(() => reply);
      await captureError(retrying().provider.complete(simpleRequest));
      expect(server.requests).toHaveLength(1);
    }
  });

  it('keeps the URL and the provider body out of the message and logs them', async () => {
    server.script([{ status: 401, body: { error: { message: 'Incorrect API key provided: sk-te****st' } } }]);
    const { provider, logged } = retrying();
    const error = await captureError(provider.complete(simpleRequest));
    expect(error.message).toBe('LLM provider answered HTTP 401 (authentication failed: check the API key)');
    expect(error.message).not.toContain('127.0.0.1');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.fields.detail).toContain(`${server.baseUrl}/chat/completions`);
    expect(logged[0]?.fields.detail).toContain('Incorrect API key');
  });

  it('stops waiting, without another call, when the caller aborts during the backoff', async () => {
    server.setFallback(() => ({ status: 429, headers: { 'retry-after': '3' } }));
    const controller = new AbortController();
    const pending = retrying().provider.complete({ ...simpleRequest, signal: controller.signal });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();
    const error = await captureError(pending);
    expect(error.message).toBe('LLM request was aborted by the caller');
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('makes a single call without a retry policy', async () => {
    server.setFallback(() => ({ status: 500 }));
    const provider = createLlmProvider({
      kind: 'anthropic',
      baseUrl: server.baseUrl,
      model: 'claude-haiku-4-5',
      timeoutMs: 1_000,
      retry: NO_RETRIES,
    });
    await captureError(provider.complete(simpleRequest));
    expect(server.requests).toHaveLength(1);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-30T00:00:00Z');

  it('reads delay-seconds, an HTTP date and retry-after-ms', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Mon, 30 Nov 2026 00:00:07 GMT' }), now)).toBe(7000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Sun, 29 Nov 2026 23:00:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '1' }), now)).toBe(250);
  });

  it('ignores a missing or unreadable header', () => {
    expect(parseRetryAfter(new Headers(), now)).toBeNull();
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeNull();
    expect(parseRetryAfter(new Headers({ 'retry-after': '-3' }), now)).toBeNull();
  });
});
