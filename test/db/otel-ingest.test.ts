import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { findJobsForTask } from '../../src/evaluation/evaluation.queries.js';
import { insertProject } from '../../src/identity/identity.queries.js';
import { findOtelScoresForTask } from '../../src/otel/otel.queries.js';
import { ingestSpans } from '../../src/otel/otel-ingest.js';
import type { Attributes, OtlpSpan, OtlpSpanEvent } from '../../src/otel/otlp-span.js';
import { deriveTaskId } from '../../src/otel/span-mapping.js';
import {
  CategoryClassifier,
  getCategoryClassifier,
  registerCategoryClassifier,
} from '../../src/routing/classification.service.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

const T0 = 1_790_000_000_000_000_000n;
const MS = 1_000_000n;
let traceCounter = 0;

/** A fresh trace id and span ids in it (`id(1)` .. `id(n)`). */
function newTrace() {
  traceCounter += 1;
  const traceId = traceCounter.toString(16).padStart(32, 'c');
  const prefix = traceCounter.toString(16).padStart(8, '0');
  return { traceId, id: (n: number) => `${prefix}${n.toString(16).padStart(8, '0')}` };
}

function span(
  traceId: string,
  spanId: string,
  parentSpanId: string | null,
  name: string,
  startMs: number,
  endMs: number,
  attributes: Attributes = {},
  extra: { events?: OtlpSpanEvent[]; status?: OtlpSpan['status'] } = {},
): OtlpSpan {
  return {
    traceId,
    spanId,
    parentSpanId,
    name,
    kind: 1,
    startTimeUnixNano: T0 + BigInt(startMs) * MS,
    endTimeUnixNano: T0 + BigInt(endMs) * MS,
    attributes,
    resource: { 'service.name': 'weather-service' },
    scope: { name: 'test', version: null },
    events: extra.events ?? [],
    status: extra.status ?? { code: 0, message: '' },
  };
}

/** An agent span and four children (two model calls, a tool call, a plain step), as in the benchmark. */
function agentTrace(options: { agent?: string; model?: string; conversation?: string } = {}) {
  const { traceId, id } = newTrace();
  const model = options.model ?? 'gpt-4o';
  const agent = span(traceId, id(1), null, `invoke_agent ${options.agent ?? 'Weather Agent'}`, 0, 1000, {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': options.agent ?? 'Weather Agent',
    'gen_ai.conversation.id': options.conversation ?? 'conv-1',
    'gen_ai.input.messages': JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'What is the weather in Paris?' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([
      { role: 'assistant', parts: [{ type: 'text', content: 'Sunny, 21 °C.' }], finish_reason: 'stop' },
    ]),
    // Usage on the agent span repeats its calls': it is not counted twice.
    'gen_ai.usage.input_tokens': 300,
    'gen_ai.usage.output_tokens': 60,
  });
  const children = [
    span(traceId, id(2), id(1), `chat ${model}`, 10, 300, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': model,
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
    }),
    span(traceId, id(3), id(1), 'execute_tool get_weather', 310, 400, {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
    }),
    span(traceId, id(4), id(1), 'format', 700, 720),
    span(traceId, id(5), id(1), `chat ${model}`, 410, 690, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.response.model': model,
      'gen_ai.provider.name': 'openai',
      'gen_ai.usage.input_tokens': 200,
      'gen_ai.usage.output_tokens': 40,
    }),
  ];
  return { traceId, id, agent, children, all: [agent, ...children] };
}

describe('OpenTelemetry span ingestion', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const ingest = (spans: readonly OtlpSpan[], projectId = DEFAULT_PROJECT_ID) =>
    ingestSpans(app.ctx, projectId, spans);
  const taskOf = (traceId: string, spanId: string, projectId = DEFAULT_PROJECT_ID) =>
    app.ctx.db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', deriveTaskId(projectId, traceId, spanId))
      .executeTakeFirst();
  const nodesOf = (taskId: string) =>
    app.ctx.db
      .selectFrom('agent_node_performance')
      .selectAll()
      .where('task_id', '=', taskId)
      .orderBy('sequence')
      .execute();
  const countRows = async () => {
    const row = await sql<{ tasks: number; nodes: number; spans: number; scores: number; jobs: number }>`
      SELECT (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM agent_node_performance) AS nodes,
        (SELECT count(*)::int FROM otel_spans) AS spans, (SELECT count(*)::int FROM agent_performance_scores) AS scores,
        (SELECT count(*)::int FROM graphile_worker.jobs) AS jobs
    `.execute(app.ctx.db);
    return row.rows[0];
  };
  const statsOf = (agentId: string, projectId = DEFAULT_PROJECT_ID) =>
    app.ctx.db
      .selectFrom('agent_performance_stats')
      .select([
        'total_tasks',
        'successful_tasks',
        'failed_tasks',
        'total_tokens',
        'total_cost',
        'metered_tasks',
        'priced_tasks',
      ])
      .where('project_id', '=', projectId)
      .where('agent_id', '=', agentId)
      .executeTakeFirst();

  it('makes a finished task of an invoke_agent span, its children its nodes in time order', async () => {
    const trace = agentTrace({ agent: 'Weather Agent' });
    const result = await ingest(trace.all);
    expect(result).toEqual({ acceptedSpans: 5, rejectedSpans: 0, errorMessage: '' });
    const task = await taskOf(trace.traceId, trace.id(1));
    expect(task).toMatchObject({
      agent_id: 'weather_agent',
      command: 'What is the weather in Paris?',
      status: 'completed',
      result: 'Sunny, 21 °C.',
      source: 'otel',
      model: 'gpt-4o',
      duration_ms: 1000,
      // The two chat calls (100 + 200 in, 20 + 40 out); the agent span's own usage is not added.
      prompt_tokens: 300,
      completion_tokens: 60,
      total_tokens: 360,
    });
    // gpt-4o: 300 x 2.5 + 60 x 10 per million.
    expect(Number(task?.estimated_cost)).toBeCloseTo(0.00135, 6);
    expect(task?.started_at?.toISOString()).toBe(new Date(Number(T0 / MS)).toISOString());
    const nodes = await nodesOf(task?.id as string);
    expect(
      nodes.map((node) => [node.node_name, node.duration_ms, node.prompt_tokens, node.total_tokens]),
    ).toEqual([
      ['chat gpt-4o', 290, 100, 120],
      ['execute_tool get_weather', 90, null, null],
      ['chat gpt-4o', 280, 200, 240],
      ['format', 20, null, null],
    ]);
    const agent = await app.ctx.db
      .selectFrom('agents')
      .select(['origin', 'external_name'])
      .where('agent_id', '=', 'weather_agent')
      .executeTakeFirst();
    expect(agent).toEqual({ origin: 'external', external_name: 'Weather Agent' });
    const link = await app.ctx.db
      .selectFrom('otel_spans')
      .select(['role', 'task_id', 'conversation_id'])
      .where('trace_id', '=', trace.traceId)
      .where('span_id', '=', trace.id(1))
      .executeTakeFirst();
    expect(link).toEqual({ role: 'agent', task_id: task?.id, conversation_id: 'conv-1' });
  });

  it("files a task under its conversation's session, listed by ?session_id=", async () => {
    const first = agentTrace({ agent: 'Session Agent', conversation: 'conv-session' });
    const second = agentTrace({ agent: 'Session Agent', conversation: 'conv-session' });
    const other = agentTrace({ agent: 'Session Agent', conversation: 'conv-elsewhere' });
    await ingest([...first.all, ...second.all, ...other.all]);
    const task = await taskOf(first.traceId, first.id(1));
    expect(task?.session_id).toBe('conv-session');
    const listed = await app.call('GET', '/api/tasks?session_id=conv-session', undefined, {
      user: task?.user_id,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.tasks.map((row: { id: string }) => row.id).sort()).toEqual(
      [task?.id, (await taskOf(second.traceId, second.id(1)))?.id].sort(),
    );
    expect(listed.body.tasks.every((row: { session_id: string }) => row.session_id === 'conv-session')).toBe(
      true,
    );
    const one = await app.call('GET', `/api/tasks/${task?.id}`, undefined, { user: task?.user_id });
    expect(one.body.session_id).toBe('conv-session');
  });

  it('is scored and queued for evaluation by the normal pipeline, and counted in statistics', async () => {
    const trace = agentTrace({ agent: 'Scored Agent' });
    await ingest(trace.all);
    const task = await taskOf(trace.traceId, trace.id(1));
    const score = await app.ctx.db
      .selectFrom('agent_performance_scores')
      .selectAll()
      .where('task_id', '=', task?.id as string)
      .executeTakeFirst();
    expect(score).toMatchObject({ agent_id: 'scored_agent', total_tokens: 360 });
    expect(score?.efficiency_score).not.toBeNull();
    const jobs = await findJobsForTask(app.ctx.db, task?.id as string);
    expect(jobs.map((job) => job.task_identifier)).toContain('evaluate_task');
    expect(await statsOf('scored_agent')).toMatchObject({
      total_tasks: 1,
      successful_tasks: 1,
      total_tokens: 360,
      metered_tasks: 1,
      priced_tasks: 1,
    });
  });

  it('changes nothing when the same export is sent again', async () => {
    const trace = agentTrace({ agent: 'Twice Agent' });
    await ingest(trace.all);
    const before = await countRows();
    const stats = await statsOf('twice_agent');
    const again = await ingest(trace.all);
    expect(again.acceptedSpans).toBe(5);
    expect(await countRows()).toEqual(before);
    expect(await statsOf('twice_agent')).toEqual(stats);
  });

  it('keeps children that arrive before their agent span and attaches them when it arrives', async () => {
    const trace = agentTrace({ agent: 'Late Parent Agent' });
    await ingest(trace.children.slice(0, 2));
    await ingest(trace.children.slice(2));
    const pending = await app.ctx.db
      .selectFrom('otel_spans')
      .select(['span_id', 'task_id'])
      .where('trace_id', '=', trace.traceId)
      .execute();
    expect(pending).toHaveLength(4);
    expect(pending.every((row) => row.task_id === null)).toBe(true);
    expect(await taskOf(trace.traceId, trace.id(1))).toBeUndefined();

    await ingest([trace.agent]);
    const task = await taskOf(trace.traceId, trace.id(1));
    expect(task).toMatchObject({ status: 'completed', total_tokens: 360 });
    const nodes = await nodesOf(task?.id as string);
    expect(nodes.map((node) => node.node_name)).toEqual([
      'chat gpt-4o',
      'execute_tool get_weather',
      'chat gpt-4o',
      'format',
    ]);
    const linked = await app.ctx.db
      .selectFrom('otel_spans')
      .select('task_id')
      .where('trace_id', '=', trace.traceId)
      .execute();
    expect(linked.every((row) => row.task_id === task?.id)).toBe(true);
  });

  it('rebuilds the nodes, tokens and statistics of a task when a child arrives after its agent span', async () => {
    const trace = agentTrace({ agent: 'Late Child Agent' });
    const late = trace.children[3] as OtlpSpan;
    await ingest([trace.agent, ...trace.children.slice(0, 3)]);
    expect(await taskOf(trace.traceId, trace.id(1))).toMatchObject({ prompt_tokens: 100, total_tokens: 120 });
    expect(await statsOf('late_child_agent')).toMatchObject({ total_tokens: 120 });

    await ingest([late]);
    const task = await taskOf(trace.traceId, trace.id(1));
    expect(task).toMatchObject({ prompt_tokens: 300, completion_tokens: 60, total_tokens: 360 });
    const nodes = await nodesOf(task?.id as string);
    expect(nodes.map((node) => [node.sequence, node.node_name])).toEqual([
      [0, 'chat gpt-4o'],
      [1, 'execute_tool get_weather'],
      [2, 'chat gpt-4o'],
      [3, 'format'],
    ]);
    expect(await statsOf('late_child_agent')).toMatchObject({ total_tasks: 1, total_tokens: 360 });
    const score = await app.ctx.db
      .selectFrom('agent_performance_scores')
      .select('total_tokens')
      .where('task_id', '=', task?.id as string)
      .executeTakeFirst();
    expect(score?.total_tokens).toBe(360);
  });

  it("keeps each model call's model, provider, cache-read and reasoning tokens and cost on its node, also when it arrives late", async () => {
    const trace = agentTrace({ agent: 'Cached Calls Agent' });
    const first = {
      ...(trace.children[0] as OtlpSpan),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.provider.name': 'openai',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.usage.cache_read.input_tokens': 60,
        'gen_ai.usage.reasoning.output_tokens': 8,
      },
    };
    // Older conventions: gen_ai.system, the requested model only, OpenAI's older cached-token key.
    const late = {
      ...(trace.children[3] as OtlpSpan),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': 'az.ai.inference',
        'gen_ai.request.model': 'o4-mini',
        'gen_ai.usage.input_tokens': 200,
        'gen_ai.usage.output_tokens': 40,
        'gen_ai.usage.input_tokens.cached': 100,
        'gen_ai.usage.output_tokens.reasoning': 30,
      },
    };
    await ingest([trace.agent, first, trace.children[1] as OtlpSpan, trace.children[2] as OtlpSpan]);
    const task = await taskOf(trace.traceId, trace.id(1));
    const fields = (node: Awaited<ReturnType<typeof nodesOf>>[number]) => [
      node.node_name,
      node.model,
      node.provider,
      node.cache_read_tokens,
      node.reasoning_tokens,
      node.estimated_cost,
    ];
    // gpt-4o: 40 x 2.5 + 60 cached x 1.25 + 20 x 10 per million.
    const chat = ['chat gpt-4o', 'gpt-4o-2024-08-06', 'openai', 60, 8, 0.000375];
    const tool = ['execute_tool get_weather', null, null, null, null, null];
    const step = ['format', null, null, null, null, null];
    expect((await nodesOf(task?.id as string)).map(fields)).toEqual([chat, tool, step]);

    // The late call rebuilds the nodes (OTLP ingestion deletes and inserts them again).
    await ingest([late]);
    expect((await nodesOf(task?.id as string)).map(fields)).toEqual([
      chat,
      tool,
      // o4-mini: 100 x 1.1 + 100 cached x 0.275 + 40 x 4.4 per million (0.0003135, to 6 decimals).
      ['chat gpt-4o', 'o4-mini', 'az.ai.inference', 100, 30, 0.000314],
      step,
    ]);
  });

  it('makes one task of a trace exported by several clients at once', async () => {
    const trace = agentTrace({ agent: 'Racing Agent' });
    const exports = [
      trace.all,
      [trace.agent],
      trace.children,
      [...trace.all].reverse(),
      trace.all,
      [trace.agent, trace.children[0] as OtlpSpan],
    ];
    const results = await Promise.all(exports.map((spans) => ingest(spans)));
    expect(results.every((result) => result.rejectedSpans === 0)).toBe(true);
    const tasks = await app.ctx.db
      .selectFrom('tasks')
      .select(['id', 'total_tokens'])
      .where('agent_id', '=', 'racing_agent')
      .execute();
    expect(tasks).toEqual([
      { id: deriveTaskId(DEFAULT_PROJECT_ID, trace.traceId, trace.id(1)), total_tokens: 360 },
    ]);
    expect(await nodesOf(tasks[0]?.id as string)).toHaveLength(4);
    expect(await statsOf('racing_agent')).toMatchObject({ total_tasks: 1, total_tokens: 360 });
  });

  it('stores gen_ai.evaluation.result events as scores with source otel', async () => {
    const trace = agentTrace({ agent: 'Evaluated Agent' });
    const evaluation = (name: string, attributes: Attributes): OtlpSpanEvent => ({
      name: 'gen_ai.evaluation.result',
      timeUnixNano: T0 + 2000n * MS,
      attributes: { 'gen_ai.evaluation.name': name, ...attributes },
    });
    const agent = {
      ...trace.agent,
      events: [
        evaluation('Relevance', {
          'gen_ai.evaluation.score.value': 0.85,
          'gen_ai.evaluation.score.label': 'relevant',
          'gen_ai.evaluation.explanation': 'Answers the question asked.',
        }),
        // Neither a value nor a label: not a score.
        evaluation('Empty', {}),
      ],
    };
    const chat = {
      ...(trace.children[0] as OtlpSpan),
      events: [
        evaluation('Hallucination', {
          'gen_ai.evaluation.score.label': 'none',
          'gen_ai.response.id': 'resp_1',
        }),
      ],
    };
    await ingest([agent, chat, ...trace.children.slice(1)]);
    await ingest([agent, chat]);
    const taskId = deriveTaskId(DEFAULT_PROJECT_ID, trace.traceId, trace.id(1));
    const scores = await findOtelScoresForTask(app.ctx.db, DEFAULT_PROJECT_ID, taskId);
    // Same time: the agent span's first (span id order).
    expect(scores.map(({ evaluated_at: _at, ...score }) => score)).toEqual([
      {
        name: 'Relevance',
        score_value: 0.85,
        score_label: 'relevant',
        explanation: 'Answers the question asked.',
        response_id: null,
        source: 'otel',
      },
      {
        name: 'Hallucination',
        score_value: null,
        score_label: 'none',
        explanation: null,
        response_id: 'resp_1',
        source: 'otel',
      },
    ]);
    expect(await findOtelScoresForTask(app.ctx.db, 'aaaaaaaa-0000-0000-0000-000000000000', taskId)).toEqual(
      [],
    );
    // Shown beside the judge's in the task's evaluation.
    const task = await taskOf(trace.traceId, trace.id(1));
    const shown = await app.call('GET', `/api/tasks/${taskId}/evaluation`, undefined, {
      user: task?.user_id,
    });
    expect(shown.status).toBe(200);
    expect(
      shown.body.external_scores.map(({ evaluated_at: _at, ...score }: { evaluated_at: string }) => score),
    ).toEqual([
      {
        name: 'Relevance',
        value: 0.85,
        label: 'relevant',
        explanation: 'Answers the question asked.',
        source: 'otel',
      },
      { name: 'Hallucination', value: null, label: 'none', explanation: null, source: 'otel' },
    ]);
  });

  it('leaves tokens unknown when a model call reports none, and the cost unknown for an unpriced model', async () => {
    const unmetered = agentTrace({ agent: 'Unmetered Agent' });
    const silentChat = {
      ...(unmetered.children[3] as OtlpSpan),
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' },
    };
    await ingest([...unmetered.all.slice(0, 4), silentChat]);
    expect(await taskOf(unmetered.traceId, unmetered.id(1))).toMatchObject({
      prompt_tokens: null,
      completion_tokens: null,
      total_tokens: null,
      estimated_cost: null,
    });
    expect(await statsOf('unmetered_agent')).toMatchObject({
      total_tasks: 1,
      metered_tasks: 0,
      priced_tasks: 0,
      total_tokens: 0,
    });

    const unpriced = agentTrace({ agent: 'Unpriced Agent', model: 'house-model-7b-unlisted' });
    await ingest(unpriced.all);
    expect(await taskOf(unpriced.traceId, unpriced.id(1))).toMatchObject({
      model: 'house-model-7b-unlisted',
      total_tokens: 360,
      estimated_cost: null,
    });

    const { traceId, id } = newTrace();
    await ingest([
      span(traceId, id(1), null, 'invoke_agent Bare Agent', 0, 50, {
        'gen_ai.operation.name': 'invoke_agent',
      }),
    ]);
    expect(await taskOf(traceId, id(1))).toMatchObject({
      agent_id: 'bare_agent',
      total_tokens: null,
      estimated_cost: null,
    });
  });

  it('fails the task of an agent span whose status is an error', async () => {
    const { traceId, id } = newTrace();
    await ingest([
      span(
        traceId,
        id(1),
        null,
        'invoke_agent Flaky Agent',
        0,
        100,
        { 'gen_ai.operation.name': 'invoke_agent' },
        {
          status: { code: 2, message: 'tool crashed' },
        },
      ),
    ]);
    expect(await taskOf(traceId, id(1))).toMatchObject({
      status: 'failed',
      error: 'tool crashed',
      result: null,
    });
    expect(await statsOf('flaky_agent')).toMatchObject({ total_tasks: 1, failed_tasks: 1 });
  });

  it('keeps projects apart: the same trace in two projects is two tasks, each in its own project', async () => {
    const other = await insertProject(app.ctx.db, { slug: 'otel-other', name: 'OTel other' });
    await ensureDefaultData(app.ctx.db, other.id);
    const trace = agentTrace({ agent: 'Shared Name Agent' });
    await ingest(trace.all);
    await ingest(trace.all, other.id);
    const mine = await taskOf(trace.traceId, trace.id(1));
    const theirs = await taskOf(trace.traceId, trace.id(1), other.id);
    expect(mine?.project_id).toBe(DEFAULT_PROJECT_ID);
    expect(theirs?.project_id).toBe(other.id);
    expect(mine?.id).not.toBe(theirs?.id);
    const spans = await app.ctx.db
      .selectFrom('otel_spans')
      .select(['project_id', 'task_id'])
      .where('trace_id', '=', trace.traceId)
      .execute();
    expect(
      spans.filter((row) => row.project_id === other.id).every((row) => row.task_id === theirs?.id),
    ).toBe(true);
    expect(
      spans.filter((row) => row.project_id === DEFAULT_PROJECT_ID).every((row) => row.task_id === mine?.id),
    ).toBe(true);
  });

  it('makes a task of a Vercel AI SDK call once it is known that no agent span is above it', async () => {
    const { traceId, id } = newTrace();
    const call = span(traceId, id(1), null, 'ai.generateText', 0, 500, {
      'ai.operationId': 'ai.generateText',
      'ai.telemetry.functionId': 'recipe-bot',
      'ai.prompt': JSON.stringify({ prompt: 'A recipe with leeks' }),
      'ai.response.text': 'Leek soup.',
    });
    const step = span(traceId, id(2), id(1), 'ai.generateText.doGenerate', 10, 490, {
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.id': 'gpt-4o-mini',
      'ai.usage.promptTokens': 80,
      'ai.usage.completionTokens': 20,
    });
    await ingest([step]);
    expect(await taskOf(traceId, id(1))).toBeUndefined();
    await ingest([call]);
    expect(await taskOf(traceId, id(1))).toMatchObject({
      agent_id: 'recipe_bot',
      command: 'A recipe with leeks',
      result: 'Leek soup.',
      total_tokens: 100,
    });
    const roles = await app.ctx.db
      .selectFrom('otel_spans')
      .select(['span_id', 'role'])
      .where('trace_id', '=', traceId)
      .orderBy('span_id')
      .execute();
    expect(roles).toEqual([
      { span_id: id(1), role: 'agent' },
      { span_id: id(2), role: 'step' },
    ]);
  });

  it("files a task under the span's end user, else the caller's user", async () => {
    const caller = '00000000-0000-0000-0000-00000000abcd';
    const plain = agentTrace({ agent: 'User Agent' });
    await ingestSpans(app.ctx, DEFAULT_PROJECT_ID, plain.all, { userId: caller });
    expect((await taskOf(plain.traceId, plain.id(1)))?.user_id).toBe(caller);
    const named = agentTrace({ agent: 'User Agent' });
    const agent = { ...named.agent, attributes: { ...named.agent.attributes, 'user.id': 'customer-42' } };
    await ingestSpans(app.ctx, DEFAULT_PROJECT_ID, [agent], { userId: caller });
    const task = await taskOf(named.traceId, named.id(1));
    expect(task?.user_id).not.toBe(caller);
    expect(task?.user_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
  });

  it('records a task whose message decodes to half an emoji (as U+FFFD), or whose step name is cut inside one', async () => {
    // The attribute is plain ASCII JSON text; parsing its escape gives half an emoji, which PostgreSQL
    // refuses in jsonb: the task (and every span of the batch) failed to store before.
    const trace = agentTrace({ agent: 'Half Emoji Agent' });
    const agent = {
      ...trace.agent,
      attributes: {
        ...trace.agent.attributes,
        'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Weather \\ud83d"}]}]',
      },
    };
    // A name longer than a node's 100 characters, cut inside an emoji, would leave its first half.
    const chat = { ...(trace.children[0] as OtlpSpan), name: `${'c'.repeat(99)}\u{1F600}` };
    const result = await ingest([agent, chat, ...trace.children.slice(1)]);
    expect(result).toEqual({ acceptedSpans: 5, rejectedSpans: 0, errorMessage: '' });
    const task = await taskOf(trace.traceId, trace.id(1));
    expect(task?.command).toBe('Weather \uFFFD');
    const nodes = await nodesOf(task?.id as string);
    expect(nodes[0]?.node_name).toBe('c'.repeat(99));
  });

  it("checks the classifier's trained model once per export, not once per command", async () => {
    // A logging connection over the test's own pool: what the classifier asks PostgreSQL is counted.
    const queries: string[] = [];
    const logged = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: app.database.pool }),
      log: (event) => {
        if (event.level === 'query') queries.push(event.query.sql);
      },
    });
    const classifier = new CategoryClassifier(logged);
    const previous = getCategoryClassifier(app.ctx.db);
    registerCategoryClassifier(app.ctx.db, classifier);
    try {
      await classifier.classify(DEFAULT_PROJECT_ID, 'warm the model up');
      queries.length = 0;
      const traces = ['flights to Lisbon', 'a hotel in Porto', 'trains to Faro', 'a car in Braga'].map(
        (where) => {
          const trace = agentTrace({ agent: 'Many Commands Agent' });
          const messages = JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: `Find ${where}` }] },
          ]);
          return [
            { ...trace.agent, attributes: { ...trace.agent.attributes, 'gen_ai.input.messages': messages } },
          ];
        },
      );
      await ingest(traces.flat());
      // The freshness check (labelled tasks since the model was trained): four before, one per command.
      expect(queries.filter((query) => query.includes('"category_source" =')).length).toBe(1);
      const commands = await app.ctx.db
        .selectFrom('tasks')
        .select('command')
        .where('agent_id', '=', 'many_commands_agent')
        .orderBy('command')
        .execute();
      expect(commands.map((row) => row.command)).toEqual([
        'Find a car in Braga',
        'Find a hotel in Porto',
        'Find flights to Lisbon',
        'Find trains to Faro',
      ]);
    } finally {
      registerCategoryClassifier(app.ctx.db, previous);
    }
  });

  it('rejects spans that cannot be mapped, naming why, and stores the rest', async () => {
    const trace = agentTrace({ agent: 'Partly Bad Agent' });
    const result = await ingest([
      ...trace.all,
      { ...(trace.children[0] as OtlpSpan), spanId: 'xyz' },
      { ...(trace.children[1] as OtlpSpan), spanId: 'abcdefabcdef0001', endTimeUnixNano: T0 - 1n },
      { ...trace.agent, spanId: 'abcdefabcdef0002', name: 'invoke_agent', attributes: {}, resource: {} },
    ]);
    expect(result.acceptedSpans).toBe(5);
    expect(result.rejectedSpans).toBe(3);
    expect(result.errorMessage).toContain('span id');
    expect(result.errorMessage).toContain('end time');
    expect(result.errorMessage).toContain('names no agent');
    expect(await taskOf(trace.traceId, trace.id(1))).toMatchObject({ status: 'completed' });
  });
});
