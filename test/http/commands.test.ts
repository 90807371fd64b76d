import { type JobHelpers, runOnce } from 'graphile-worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAgentJobs, RUN_AGENT_TASK_MAX_ATTEMPTS } from '../../src/agents/agents.jobs.js';
import { insertRunAgentTaskJob, RUN_AGENT_TASK_JOB } from '../../src/agents/agents.queries.js';
import { simulateRun } from '../../src/agents/simulated-team.js';
import { silentWorkerLogger } from '../../src/lib/log.js';
import { estimateCost } from '../../src/llm/pricing.js';
import { createTestApp, DEFAULT_PROJECT_ID, scopeOf, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { type FakeLlmServer, type FakeReply, startFakeLlmServer } from '../support/fake-llm-server.js';

const SIMULATION = { MERIT_SIMULATION_SEED: '42', MERIT_SIMULATION_SPEED: '100000' };

/** Runs every queued agent job to its end, with graphile-worker itself (as the worker process would). */
async function runAgentJobs(app: TestApp): Promise<void> {
  await runOnce({ pgPool: app.database.pool, logger: silentWorkerLogger() }, createAgentJobs(app.ctx));
}

/**
 * Runs the queued agent jobs with graphile-worker and returns each one's payload as it was handed to
 * the job (graphile-worker's public `jobs` view leaves the payload out).
 */
async function runAgentJobsSeeingPayloads(app: TestApp) {
  const seen: { task_identifier: string; payload: unknown }[] = [];
  const run = createAgentJobs(app.ctx)[RUN_AGENT_TASK_JOB];
  await runOnce(
    { pgPool: app.database.pool, logger: silentWorkerLogger() },
    {
      [RUN_AGENT_TASK_JOB]: async (payload, helpers) => {
        seen.push({ task_identifier: helpers.job.task_identifier, payload });
        await run?.(payload, helpers);
      },
    },
  );
  return seen;
}

async function findBobStats(app: TestApp) {
  return app.ctx.db
    .selectFrom('agent_performance_stats')
    .select(['total_tasks', 'successful_tasks'])
    .where('agent_id', '=', 'agent_a')
    .executeTakeFirst();
}

describe.each(databaseKinds())('POST /api/commands with the simulated team (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, SIMULATION);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('queues a task for the @mentioned agent, case-insensitively, together with the job that runs it', async () => {
    const { status, body } = await app.call('POST', '/api/commands', {
      command: '@Bob research quantum computing',
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({
      agent_id: 'agent_a',
      nickname: 'bob',
      command: '@Bob research quantum computing',
      objective_category: 'research',
      status: 'queued',
      source: 'mission_control',
      simulated: true,
      model: 'simulated',
    });
    const queued = await app.database.pool.query(
      'SELECT key FROM graphile_worker.jobs WHERE task_identifier = $1',
      [RUN_AGENT_TASK_JOB],
    );
    expect(queued.rows).toContainEqual({ key: `${RUN_AGENT_TASK_JOB}:${body.id}` });
    const jobs = await runAgentJobsSeeingPayloads(app);
    expect(jobs.filter((job) => (job.payload as { task_id?: string }).task_id === body.id)).toEqual([
      {
        task_identifier: RUN_AGENT_TASK_JOB,
        payload: { task_id: body.id, project_id: DEFAULT_PROJECT_ID, user_id: USER },
      },
    ]);
  });

  it('answers 400 unknown_agent_mention naming the command field and the known nicknames', async () => {
    const before = await app.call('GET', '/api/tasks');
    const { status, body } = await app.call('POST', '/api/commands', { command: '@zed do something' });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'unknown_agent_mention', field: 'command' });
    expect(body.error.message).toContain('@zed');
    for (const nickname of ['@alice', '@bob', '@chat', '@kai', '@leo', '@maya', '@rex', '@sue'])
      expect(body.error.message).toContain(nickname);
    const after = await app.call('GET', '/api/tasks');
    expect(after.body.tasks).toHaveLength(before.body.tasks.length);
  });

  it('refuses a mention with nothing to do, and an empty command', async () => {
    const bare = await app.call('POST', '/api/commands', { command: '@bob' });
    expect(bare.status).toBe(400);
    expect(bare.body.error).toMatchObject({ code: 'validation_failed', field: 'command' });
    const empty = await app.call('POST', '/api/commands', { command: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'command' });
  });

  it('lets the router choose the agent when the command mentions nobody, and records its decision', async () => {
    const { status, body } = await app.call('POST', '/api/commands', {
      command: 'review this contract for GDPR compliance risks',
    });
    expect(status).toBe(202);
    expect(body.objective_category).toBe('compliance');
    expect(body.category_source).toBe('classifier');
    const decision = await app.ctx.db
      .selectFrom('routing_decisions')
      .selectAll()
      .where('task_id', '=', body.id)
      .executeTakeFirstOrThrow();
    expect(decision.chosen_agent_id).toBe(body.agent_id);
    expect(decision.category).toBe('compliance');
    expect(decision.reason).not.toBe('mention');
    await runAgentJobs(app);
  });

  it('runs a simulated task node by node to completion, with tokens and cost from the price table', async () => {
    const events: string[] = [];
    const unsubscribe = app.ctx.events.subscribe((event) => {
      if (event.type === 'task') events.push(event.taskId);
    });
    const created = await app.call('POST', '/api/commands', { command: '@bob research graphene batteries' });
    await runAgentJobs(app);
    unsubscribe();

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    const expected = simulateRun({
      agent: { agentId: 'agent_a', nickname: 'bob', specializations: ['research', 'analysis'] },
      command: '@bob research graphene batteries',
      category: 'research',
      seed: 42,
      runKey: '0',
    });
    expect(expected.success).toBe(true);
    expect(task).toMatchObject({
      status: 'completed',
      current_node: null,
      result: expected.result,
      model: 'simulated',
      prompt_tokens: expected.prompt_tokens,
      completion_tokens: expected.completion_tokens,
      total_tokens: expected.prompt_tokens + expected.completion_tokens,
      duration_ms: expected.duration_ms,
      error: null,
    });
    expect(task.estimated_cost).toBeCloseTo(
      estimateCost('simulated', expected.prompt_tokens, expected.completion_tokens) as number,
      6,
    );
    expect(task.nodes.map((node: { node_name: string }) => node.node_name)).toEqual([
      'plan',
      'research',
      'synthesize',
      'respond',
    ]);
    expect(task.nodes.every((node: { success: boolean }) => node.success)).toBe(true);
    expect(task.nodes.every((node: { model: string }) => node.model === 'simulated')).toBe(true);
    expect(task.nodes.map((node: { duration_ms: number }) => node.duration_ms)).toEqual(
      expected.nodes.map((node) => node.duration_ms),
    );
    expect(task.score.efficiency_score).toEqual(expect.any(Number));
    // queued, started, each node current then recorded, completed: every change reached the event bus.
    expect(events.filter((id) => id === task.id).length).toBeGreaterThanOrEqual(2 + 2 * task.nodes.length);
  });

  it("ends a simulated agent's failure as a failed task with the reason and the failed node", async () => {
    const created = await app.call('POST', '/api/commands', { command: '@bob research topic 51' });
    expect(created.body.objective_category).toBe('research');
    await runAgentJobs(app);
    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task.status).toBe('failed');
    expect(task.error).toBe(
      "Simulated failure in the 'synthesize' step: the agent could not finish the task.",
    );
    expect(
      task.nodes.map((node: { node_name: string; success: boolean }) => [node.node_name, node.success]),
    ).toEqual([
      ['plan', true],
      ['research', true],
      ['synthesize', false],
    ]);
  });

  it('does not complete a task twice when its job runs again', async () => {
    const created = await app.call('POST', '/api/commands', { command: '@bob research solid-state lidar' });
    await runAgentJobs(app);
    const first = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(first.body.status).toBe('completed');
    const statsBefore = await findBobStats(app);

    // A retried job (the worker crashed after completing, before marking the job done).
    await insertRunAgentTaskJob(
      app.ctx.db,
      { taskId: created.body.id, projectId: DEFAULT_PROJECT_ID, userId: USER },
      RUN_AGENT_TASK_MAX_ATTEMPTS,
    );
    await runAgentJobs(app);

    const second = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(second.body).toEqual(first.body);
    expect(await findBobStats(app)).toEqual(statsBefore);
  });

  it('resumes after the nodes a crashed attempt recorded, without recording them twice', async () => {
    const created = await app.call('POST', '/api/commands', { command: '@bob research tidal energy' });
    // The first attempt started and recorded its first node, then its worker died.
    await app.ctx.tracker.startTask(scopeOf(USER), created.body.id, { currentNode: 'plan' });
    const expected = simulateRun({
      agent: { agentId: 'agent_a', nickname: 'bob', specializations: ['research', 'analysis'] },
      command: '@bob research tidal energy',
      category: 'research',
      seed: 42,
      runKey: '0',
    });
    const plan = expected.nodes[0] as (typeof expected.nodes)[number];
    await app.ctx.tracker.recordNode(scopeOf(USER), created.body.id, { ...plan, success: true });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task.status).toBe('completed');
    expect(task.nodes.map((node: { node_name: string }) => node.node_name)).toEqual(
      expected.nodes.map((node) => node.node_name),
    );
    expect(task.total_tokens).toBe(expected.prompt_tokens + expected.completion_tokens);
  });

  it('fails the task with the error of its last attempt, and leaves it for a retry before that', async () => {
    const created = await app.call('POST', '/api/commands', { command: '@bob research heat pumps' });
    const job = createAgentJobs(app.ctx)[RUN_AGENT_TASK_JOB] as (
      payload: unknown,
      helpers: JobHelpers,
    ) => Promise<void>;
    // The worker is shutting down: the run stops at once, and the job fails so that it is retried.
    const shutdown = AbortSignal.abort(new Error('worker shutting down'));
    const helpersAt = (attempts: number) =>
      ({
        job: { attempts, max_attempts: RUN_AGENT_TASK_MAX_ATTEMPTS },
        abortSignal: shutdown,
        logger: silentWorkerLogger(),
      }) as unknown as JobHelpers;
    const payload = { task_id: created.body.id, user_id: USER };

    await expect(job(payload, helpersAt(1))).rejects.toThrow();
    const retried = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(retried.body.status).toBe('running');

    await expect(job(payload, helpersAt(RUN_AGENT_TASK_MAX_ATTEMPTS))).rejects.toThrow();
    const failed = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(failed.body.status).toBe('failed');
    expect(failed.body.error).toMatch(/^The agent run failed 3 times; last error: /);
  });
});

describe.each(databaseKinds())('POST /api/commands with an LLM configured (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let fake: FakeLlmServer;
  let agentReply: () => FakeReply;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    app = await createTestApp(kind, {
      ...SIMULATION,
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_AGENT_MODELS: 'sue=gpt-4o',
      MERIT_LLM_TIMEOUT_MS: '300',
      // Short backoff waits keep the retries quick; Retry-After still sets the wait when sent.
      MERIT_LLM_RETRY_BASE_MS: '10',
    });
  });
  beforeEach(() => {
    fake.reset();
    fake.setFallback((request) => {
      const messages = request.body.messages as { role: string; content: string }[];
      // The command classifier shares the provider; it gets a category, the agents get `agentReply`.
      if (messages[0]?.content.startsWith('You classify a user command'))
        return { json: { category: 'research', confidence: 0.9 } };
      return agentReply();
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const agentRequests = () =>
    fake.requests.filter(
      (request) =>
        !(request.body.messages as { content: string }[])[0]?.content.startsWith(
          'You classify a user command',
        ),
    );

  it("runs each agent's own system prompt on its own model, and prices the provider's usage", async () => {
    agentReply = () => ({
      text: '1. Read up\n2. Summarise',
      usage: { promptTokens: 200, completionTokens: 50 },
    });
    const created = await app.call('POST', '/api/commands', { command: '@sue check our GDPR exposure' });
    expect(created.body).toMatchObject({ simulated: false, model: 'gpt-4o' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task).toMatchObject({
      status: 'completed',
      model: 'gpt-4o',
      result: '1. Read up\n2. Summarise',
      prompt_tokens: 400,
      completion_tokens: 100,
      total_tokens: 500,
    });
    expect(task.estimated_cost).toBeCloseTo(estimateCost('gpt-4o', 400, 100) as number, 6);
    expect(task.nodes.map((node: { node_name: string }) => node.node_name)).toEqual(['plan', 'respond']);
    // Each step's node carries the model that answered it, the provider and that call's cost.
    for (const node of task.nodes as { model: string; provider: string; estimated_cost: number }[]) {
      expect(node).toMatchObject({ model: 'gpt-4o', provider: 'openai' });
      expect(node.estimated_cost).toBeCloseTo(estimateCost('gpt-4o', 200, 50) as number, 6);
    }
    const sue = await app.ctx.db
      .selectFrom('agents')
      .select('system_prompt')
      .where('nickname', '=', 'sue')
      .executeTakeFirstOrThrow();
    const calls = agentRequests();
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.body.model).toBe('gpt-4o');
      expect((call.body.messages as { role: string; content: string }[])[0]).toEqual({
        role: 'system',
        content: sue.system_prompt,
      });
    }
    // The agent is asked to do the command, not to read its own @mention.
    const answerCall = calls[1]?.body.messages as { content: string }[];
    expect(answerCall[1]?.content).toBe('check our GDPR exposure');
  });

  /** The agent's calls get these replies in order, the last one for every later call. */
  function scriptAgent(...replies: FakeReply[]) {
    let served = 0;
    agentReply = () => replies[Math.min(served++, replies.length - 1)] as FakeReply;
  }

  it('retries a 429 after the Retry-After it names, then completes the task', async () => {
    scriptAgent(
      { status: 429, headers: { 'retry-after': '1' }, body: 'rate limit of org-123 at http://10.0.0.9/v1' },
      { text: '1. Read up', usage: { promptTokens: 200, completionTokens: 50 } },
      { text: 'The answer', usage: { promptTokens: 300, completionTokens: 80 } },
    );
    const created = await app.call('POST', '/api/commands', { command: '@bob research wave power' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task).toMatchObject({ status: 'completed', result: 'The answer', prompt_tokens: 500 });
    const calls = agentRequests();
    expect(calls).toHaveLength(3);
    // The provider asked for 1 s; the gap is measured where the requests arrive.
    expect((calls[1]?.receivedAt ?? 0) - (calls[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(990);
    expect(task.nodes.map((node: { node_name: string }) => node.node_name)).toEqual(['plan', 'respond']);
  });

  it('retries a 500 and completes the task', async () => {
    scriptAgent({ status: 500 }, { text: '1. Read up' }, { status: 502 }, { text: 'The answer' });
    const created = await app.call('POST', '/api/commands', { command: '@bob research tidal power' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task).toMatchObject({ status: 'completed', result: 'The answer' });
    expect(agentRequests()).toHaveLength(4);
  });

  it('does not retry a 401 and fails the task with a reason that has no URL or provider text', async () => {
    scriptAgent({ status: 401, body: { error: { message: 'Incorrect API key provided: sk-live-1234' } } });
    const created = await app.call('POST', '/api/commands', { command: '@bob research geothermal power' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task.status).toBe('failed');
    expect(task.error).toBe(
      "The 'plan' step failed: LLM provider answered HTTP 401 (authentication failed: check the API key)",
    );
    expect(agentRequests()).toHaveLength(1);
    const list = await app.call('GET', '/api/tasks');
    expect(JSON.stringify(list.body)).not.toContain('sk-live');
    expect(JSON.stringify(list.body)).not.toContain(fake.baseUrl);
  });

  it('fails the task with the reason when the provider answers HTTP 500 to every retry', async () => {
    agentReply = () => ({ status: 500, body: 'upstream exploded at http://10.0.0.9:8080/v1' });
    const created = await app.call('POST', '/api/commands', { command: '@bob research quantum computing' });
    expect(created.body.model).toBe('gpt-4o-mini');
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task.status).toBe('failed');
    // MERIT_LLM_MAX_RETRIES defaults to 3: four calls in all.
    expect(task.error).toBe(
      "The 'plan' step failed: LLM provider answered HTTP 500 (provider error); gave up after 4 attempts",
    );
    expect(agentRequests()).toHaveLength(4);
    expect(task.nodes).toEqual([
      expect.objectContaining({ node_name: 'plan', success: false, error: task.error }),
    ]);
  });

  it('fails the task instead of hanging when the provider does not answer in time', async () => {
    agentReply = () => ({ delayMs: 5000, text: 'too late' });
    const created = await app.call('POST', '/api/commands', { command: '@bob research tidal energy' });
    await runAgentJobs(app);

    const { body: task } = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/timed out after 300 ms/);
  });
});
