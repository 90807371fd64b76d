import { runOnce } from 'graphile-worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentJobs } from '../../src/agents/agents.jobs.js';
import { silentWorkerLogger } from '../../src/lib/log.js';
import { estimateCost } from '../../src/llm/pricing.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { type FakeLlmServer, type FakeReply, startFakeLlmServer } from '../support/fake-llm-server.js';

async function runAgentJobs(app: TestApp): Promise<void> {
  await runOnce({ pgPool: app.database.pool, logger: silentWorkerLogger() }, createAgentJobs(app.ctx));
}

async function findStatsRow(app: TestApp, agentId: string) {
  return app.ctx.db
    .selectFrom('agent_performance_stats')
    .select(['total_tasks', 'total_tokens', 'total_cost', 'priced_tasks', 'metered_tasks'])
    .where('agent_id', '=', agentId)
    .executeTakeFirstOrThrow();
}

describe.each(databaseKinds())('unknown tokens and cost stay unknown (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let fake: FakeLlmServer;
  let agentReply: () => FakeReply;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    app = await createTestApp(kind, {
      MERIT_SIMULATION_SPEED: '100000',
      MERIT_EVALUATION: 'false',
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_AGENT_MODELS: 'sue=gpt-4o',
      MERIT_LLM_TIMEOUT_MS: '2000',
    });
  });
  beforeEach(() => {
    fake.reset();
    fake.setFallback((request) => {
      const messages = request.body.messages as { role: string; content: string }[];
      if (messages[0]?.content.startsWith('You classify a user command'))
        return { json: { category: 'research', confidence: 0.9 } };
      return agentReply();
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('records an agent run whose provider reports no usage with null tokens, cost and efficiency', async () => {
    agentReply = () => ({ text: '1. Look\n2. Answer', usage: null });
    const created = await app.call('POST', '/api/commands', { command: '@sue check our GDPR exposure' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task).toMatchObject({
      status: 'completed',
      model: 'gpt-4o',
      prompt_tokens: null,
      completion_tokens: null,
      total_tokens: null,
      estimated_cost: null,
    });
    expect(task.nodes.map((node: { prompt_tokens: number | null }) => node.prompt_tokens)).toEqual([
      null,
      null,
    ]);
    // Unknown work earns no efficiency score (it used to be 1.0, tokens clamped to 1).
    expect(task.score).toMatchObject({ efficiency_score: null, total_tokens: null, estimated_cost: null });

    const agentId = task.agent_id as string;
    expect(await findStatsRow(app, agentId)).toMatchObject({
      total_tasks: 1,
      total_tokens: 0,
      priced_tasks: 0,
      metered_tasks: 0,
    });
    const board = await app.call('GET', '/api/agents/leaderboard');
    const sue = board.body.rankings.find((ranking: { agent_id: string }) => ranking.agent_id === agentId);
    expect(sue).toMatchObject({
      total_tasks: 1,
      total_cost: null,
      avg_cost_per_task: null,
      cost_efficiency_score: null,
      priced_tasks: 0,
      unpriced_tasks: 1,
      total_tokens: null,
      unmetered_tasks: 1,
    });
    const performance = await app.call('GET', `/api/agents/${agentId}/performance`);
    expect(performance.body.stats).toMatchObject({ total_cost: null, unpriced_tasks: 1 });
    expect(performance.body.categories[0]).toMatchObject({
      total_cost: null,
      unpriced_tasks: 1,
      avg_tokens: null,
    });
  });

  it('keeps the tokens and cost of the plan step when the answer step fails', async () => {
    let served = 0;
    agentReply = () =>
      served++ === 0
        ? { text: '1. Look\n2. Answer', usage: { promptTokens: 555, completionTokens: 45 } }
        : { status: 401 };
    const created = await app.call('POST', '/api/commands', { command: '@sue audit our cookie banner' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task).toMatchObject({
      status: 'failed',
      prompt_tokens: 555,
      completion_tokens: 45,
      total_tokens: 600,
    });
    expect(task.estimated_cost).toBeCloseTo(estimateCost('gpt-4o', 555, 45) as number, 6);
    expect(task.score).toMatchObject({ total_tokens: 600 });
  });

  it('leaves a model without a price unpriced, and out of the cost per task', async () => {
    const priced = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'summarize the report',
      objective_category: 'research',
    });
    await app.call('POST', `/api/tasks/${priced.body.id}/complete`, {
      result: 'done',
      model: 'gpt-4o',
      prompt_tokens: 1000,
      completion_tokens: 500,
      duration_ms: 2000,
    });
    const unpriced = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'summarize the other report',
      objective_category: 'research',
    });
    const completed = await app.call('POST', `/api/tasks/${unpriced.body.id}/complete`, {
      result: 'done',
      model: 'house-model-7',
      prompt_tokens: 1000,
      completion_tokens: 500,
      duration_ms: 2000,
    });
    expect(completed.body).toMatchObject({ total_tokens: 1500, estimated_cost: null });

    const cost = estimateCost('gpt-4o', 1000, 500) as number;
    expect(await findStatsRow(app, 'agent_a')).toMatchObject({ priced_tasks: 1, metered_tasks: 2 });
    const board = await app.call('GET', '/api/agents/leaderboard');
    const entry = board.body.rankings.find((ranking: { agent_id: string }) => ranking.agent_id === 'agent_a');
    // Cost per task is over the one priced task, not halved by the unpriced one.
    expect(entry).toMatchObject({ total_tasks: 2, priced_tasks: 1, unpriced_tasks: 1, total_tokens: 3000 });
    expect(entry.total_cost).toBeCloseTo(cost, 6);
    expect(entry.avg_cost_per_task).toBeCloseTo(cost, 6);
  });
});
