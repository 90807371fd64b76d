import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LlmError } from '../../src/errors.js';
import { completeJson, createLlmProvider, extractJsonObject } from '../../src/llm/provider.js';
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
    expect(error.message).toContain('bad model');
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
    setTimeout(() => controller.abort(), 30);
    const error = await captureError(openAi().complete({ ...simpleRequest, signal: controller.signal }));
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
    expect(error.message).toContain('no scripted reply left');
    server.setFallback(() => ({ text: 'fallback answer' }));
    expect((await openAi().complete(simpleRequest)).text).toBe('fallback answer');
  });
});
