import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { estimateCost } from '../../src/llm/pricing.js';
import { completeJson, createLlmProvider } from '../../src/llm/provider.js';
import { InvalidJsonAnswerError, sumUsage } from '../../src/llm/usage.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';

let server: FakeLlmServer;
beforeAll(async () => {
  server = await startFakeLlmServer();
});
beforeEach(() => server.reset());
afterAll(async () => {
  await server.close();
});

const ask = { system: 'You help.', messages: [{ role: 'user' as const, content: 'Hi' }] };
const provider = (kind: 'openai' | 'anthropic', model: string) =>
  createLlmProvider({ kind, baseUrl: server.baseUrl, model, timeoutMs: 2000 });

describe('provider usage', () => {
  it('reads OpenAI cached and reasoning tokens, and prices them', async () => {
    server.script([
      {
        text: 'ok',
        usage: { promptTokens: 10_000, completionTokens: 3_000, cachedTokens: 8_000, reasoningTokens: 2_000 },
      },
    ]);
    const response = await provider('openai', 'gpt-5').complete(ask);
    expect(response.usage).toEqual({
      promptTokens: 10_000,
      completionTokens: 3_000,
      cachedPromptTokens: 8_000,
      cacheWriteTokens: 0,
      reasoningTokens: 2_000,
    });
    // gpt-5: 2000 x 1.25 + 8000 x 0.125 + 3000 x 10, per 1M (reasoning billed as output).
    const usage = response.usage as NonNullable<typeof response.usage>;
    expect(estimateCost('gpt-5', usage.promptTokens as number, usage.completionTokens as number, usage)).toBe(
      0.0335,
    );
  });

  it("reads Anthropic's cache reads and writes, which input_tokens leaves out", async () => {
    server.script([
      {
        text: 'ok',
        usage: { promptTokens: 6_000, completionTokens: 500, cachedTokens: 3_000, cacheWriteTokens: 2_000 },
      },
    ]);
    const response = await provider('anthropic', 'claude-haiku-4-5').complete(ask);
    expect(response.usage).toEqual({
      promptTokens: 6_000,
      completionTokens: 500,
      cachedPromptTokens: 3_000,
      cacheWriteTokens: 2_000,
      reasoningTokens: 0,
    });
    expect(response.promptTokens).toBe(6_000);
  });

  it('reports no usage as null, for both protocols', async () => {
    server.script([
      { text: 'ok', usage: null },
      { text: 'ok', usage: null },
    ]);
    expect((await provider('openai', 'gpt-4o').complete(ask)).usage).toBeNull();
    expect((await provider('anthropic', 'claude-sonnet-4').complete(ask)).usage).toBeNull();
  });

  it('sums usage over calls, unknown as soon as one call is unknown', () => {
    const one = {
      promptTokens: 10,
      completionTokens: 5,
      cachedPromptTokens: 2,
      cacheWriteTokens: 0,
      reasoningTokens: 1,
    };
    expect(sumUsage([one, one])).toEqual({
      promptTokens: 20,
      completionTokens: 10,
      cachedPromptTokens: 4,
      cacheWriteTokens: 0,
      reasoningTokens: 2,
    });
    expect(sumUsage([one, null])).toBeNull();
    expect(sumUsage([])).toBeNull();
  });
});

describe('completeJson usage', () => {
  const schema = z.object({ score: z.number() });

  it('sums the usage of every attempt into the answer', async () => {
    server.script([
      { malformed: true, usage: { promptTokens: 555, completionTokens: 20 } },
      { json: { score: 1 }, usage: { promptTokens: 600, completionTokens: 10 } },
    ]);
    const answer = await completeJson(provider('openai', 'gpt-4o'), ask, schema, { maxAttempts: 3 });
    expect(answer).toMatchObject({ attempts: 2, promptTokens: 1155, completionTokens: 30 });
    expect(answer.usage).toMatchObject({ promptTokens: 1155, completionTokens: 30 });
  });

  it('carries the usage of three paid, invalid answers in the error', async () => {
    server.script([
      { malformed: true, usage: { promptTokens: 555, completionTokens: 20 } },
      { malformed: true, usage: { promptTokens: 555, completionTokens: 20 } },
      { json: { score: 'high' }, usage: { promptTokens: 555, completionTokens: 20 } },
    ]);
    const failure = await completeJson(provider('openai', 'gpt-4o'), ask, schema, { maxAttempts: 3 }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InvalidJsonAnswerError);
    expect(failure).toMatchObject({
      code: 'llm_bad_response',
      attempts: 3,
      promptTokens: 1665,
      completionTokens: 60,
    });
    expect((failure as InvalidJsonAnswerError).usage).toMatchObject({
      promptTokens: 1665,
      completionTokens: 60,
    });
  });
});
