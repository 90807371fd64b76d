import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { estimateCost } from '../../src/llm/pricing.js';
import { completeJson, createLlmProvider, LlmCallError, spendOfError } from '../../src/llm/provider.js';
import {
  addSpend,
  InvalidJsonAnswerError,
  type LlmUsage,
  NO_SPEND,
  priceSpend,
  spendOfAnswer,
  sumUsage,
} from '../../src/llm/usage.js';
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

describe('what failed calls spent', () => {
  const schema = z.object({ score: z.number() });
  const retrying = (model = 'gpt-4o-mini', timeoutMs = 2000) =>
    createLlmProvider({
      kind: 'openai',
      baseUrl: server.baseUrl,
      model,
      timeoutMs,
      retry: { maxRetries: 3, baseDelayMs: 1, maxTotalWaitMs: 1000 },
    });
  const usage = (promptTokens: number, completionTokens: number): LlmUsage => ({
    promptTokens,
    completionTokens,
    cachedPromptTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  });

  it('says null, not 0, when three invalid answers reported no usage', async () => {
    server.script([
      { malformed: true, usage: null },
      { malformed: true, usage: null },
      { malformed: true, usage: null },
    ]);
    const failure = await completeJson(provider('openai', 'gpt-4o'), ask, schema, { maxAttempts: 3 }).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ attempts: 3, promptTokens: null, completionTokens: null, usage: null });
    expect(spendOfError(failure)).toEqual({ usage: null, meteredCalls: 0, unmeteredCalls: 3 });
  });

  it('charges a provider failure with the paid attempts before it', async () => {
    server.script([{ malformed: true, usage: { promptTokens: 555, completionTokens: 20 } }, { status: 401 }]);
    const failure = await completeJson(provider('openai', 'gpt-4o-mini'), ask, schema, {
      maxAttempts: 3,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmCallError);
    expect(failure).toMatchObject({ status: 401, code: 'llm_unavailable', retryable: false });
    const spend = spendOfError(failure);
    // The 401 itself was not billed; the malformed answer was.
    expect(spend).toMatchObject({ meteredCalls: 1, unmeteredCalls: 0 });
    expect(priceSpend('gpt-4o-mini', spend)).toEqual({
      promptTokens: 555,
      completionTokens: 20,
      cost: estimateCost('gpt-4o-mini', 555, 20),
    });
  });

  it('counts error statuses retried by the provider as unbilled', async () => {
    server.script([
      { status: 429 },
      { status: 500 },
      { json: { score: 1 }, usage: { promptTokens: 100, completionTokens: 5 } },
    ]);
    const answer = await completeJson(retrying(), ask, schema, { maxAttempts: 1 });
    expect(answer.spend).toMatchObject({ meteredCalls: 1, unmeteredCalls: 0 });
    expect(answer.usage).toMatchObject({ promptTokens: 100, completionTokens: 5 });
  });

  it('makes the sum unknown when a retried call timed out: the provider may have billed it', async () => {
    server.script([
      { delayMs: 500, json: { score: 1 } },
      { json: { score: 1 }, usage: { promptTokens: 100, completionTokens: 5 } },
    ]);
    const answer = await completeJson(retrying('gpt-4o-mini', 100), ask, schema, { maxAttempts: 1 });
    expect(answer.value).toEqual({ score: 1 });
    expect(answer.spend).toMatchObject({ meteredCalls: 1, unmeteredCalls: 1 });
    expect(answer.usage).toBeNull();
    expect(priceSpend('gpt-4o-mini', answer.spend)).toEqual({
      promptTokens: null,
      completionTokens: null,
      cost: null,
    });
  });

  it('charges a final timeout with every timed-out call', async () => {
    server.setFallback(() => ({ delayMs: 500, json: { score: 1 } }));
    const failure = await retrying('gpt-4o-mini', 50)
      .complete(ask)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ retryable: true, attempts: 4 });
    expect(spendOfError(failure)).toEqual({ usage: null, meteredCalls: 0, unmeteredCalls: 4 });
  });

  it('charges nothing for a provider that cannot be reached', async () => {
    const closed = await startFakeLlmServer();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const failure = await createLlmProvider({
      kind: 'openai',
      baseUrl,
      model: 'gpt-4o-mini',
      timeoutMs: 1000,
    })
      .complete(ask)
      .catch((error: unknown) => error);
    expect((failure as LlmCallError).message).toContain('ECONNREFUSED');
    expect(spendOfError(failure)).toEqual(NO_SPEND);
  });

  it('adds spends: counts add, usage sums over the metered calls', () => {
    const spend = addSpend(spendOfAnswer(usage(10, 2)), NO_SPEND, spendOfAnswer(usage(5, 1)));
    expect(spend).toEqual({ usage: usage(15, 3), meteredCalls: 2, unmeteredCalls: 0 });
    expect(addSpend(spend, spendOfAnswer(null))).toMatchObject({ meteredCalls: 2, unmeteredCalls: 1 });
    expect(priceSpend('gpt-4o-mini', addSpend(spend, spendOfAnswer(null))).promptTokens).toBeNull();
    // Nothing billed: nothing to know.
    expect(priceSpend('gpt-4o-mini', NO_SPEND)).toEqual({
      promptTokens: null,
      completionTokens: null,
      cost: null,
    });
  });

  it('prices cached prompt tokens at their own rate', () => {
    const cached = { ...usage(1_000_000, 0), cachedPromptTokens: 1_000_000 };
    // gpt-4o-mini: cached input 0.075 per 1M, against 0.15 uncached.
    expect(priceSpend('gpt-4o-mini', spendOfAnswer(cached)).cost).toBe(0.075);
    expect(priceSpend('mystery-1', spendOfAnswer(cached))).toEqual({
      promptTokens: 1_000_000,
      completionTokens: 0,
      cost: null,
    });
  });
});
