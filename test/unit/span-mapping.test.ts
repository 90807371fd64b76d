import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../src/llm/pricing.js';
import type { Attributes, OtlpSpan, OtlpSpanEvent } from '../../src/otel/otlp-span.js';
import {
  classifySpan,
  deriveTaskId,
  findSpanDefect,
  mapTrace,
  readAgentName,
  readEvaluations,
  readInputText,
  readOutputText,
  readStepKind,
  readUsage,
} from '../../src/otel/span-mapping.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const T0 = 1_790_000_000_000_000_000n;
const MS = 1_000_000n;

function span(
  spanId: string,
  parentSpanId: string | null,
  name: string,
  [startMs, endMs]: [number, number],
  attributes: Attributes = {},
  extra: { events?: OtlpSpanEvent[]; status?: OtlpSpan['status']; resource?: Attributes } = {},
): OtlpSpan {
  return {
    traceId: TRACE,
    spanId: spanId.padStart(16, '0'),
    parentSpanId: parentSpanId === null ? null : parentSpanId.padStart(16, '0'),
    name,
    kind: 1,
    startTimeUnixNano: T0 + BigInt(startMs) * MS,
    endTimeUnixNano: T0 + BigInt(endMs) * MS,
    attributes,
    resource: extra.resource ?? { 'service.name': 'svc' },
    scope: { name: 'test', version: null },
    events: extra.events ?? [],
    status: extra.status ?? { code: 0, message: '' },
  };
}

const event = (name: string, attributes: Attributes): OtlpSpanEvent => ({
  name,
  timeUnixNano: T0,
  attributes,
});
const only = <T>(items: readonly T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};

describe('current GenAI semantic conventions', () => {
  const agent = span('a1', null, 'invoke_agent Travel Planner', [0, 2000], {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.id': 'asst_123',
    'gen_ai.agent.name': 'Travel Planner',
    'gen_ai.conversation.id': 'conv_5j66',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.input.messages': JSON.stringify([
      { role: 'system', parts: [{ type: 'text', content: 'You plan trips.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Plan a weekend in Rome' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Day 1: Colosseum.' },
          { type: 'tool_call', id: 'c1', name: 'x' },
        ],
        finish_reason: 'stop',
      },
    ]),
    'gen_ai.usage.input_tokens': 999,
    'gen_ai.usage.output_tokens': 999,
    'user.id': 'customer-42',
  });
  const chat1 = span('c1', 'a1', 'chat gpt-4o', [100, 600], {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.cache_read.input_tokens': 400,
    'gen_ai.usage.output_tokens': 200,
  });
  const tool = span(
    't1',
    'a1',
    'execute_tool search_flights',
    [600, 900],
    {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search_flights',
      'error.type': 'TimeoutError',
    },
    {
      status: { code: 2, message: '' },
      events: [
        event('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'no answer in 30 s' }),
      ],
    },
  );
  const chat2 = span('c2', 'a1', 'chat gpt-4o', [900, 1900], {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1500,
    'gen_ai.usage.output_tokens': 300,
    'gen_ai.usage.reasoning.output_tokens': 100,
  });

  it('maps an invoke_agent span to a task and its children to nodes in time order', () => {
    const task = only(mapTrace([chat2, tool, agent, chat1]).tasks);
    expect(task).toMatchObject({
      agentSpanId: agent.spanId,
      agentName: 'Travel Planner',
      command: 'Plan a weekend in Rome',
      status: 'completed',
      result: 'Day 1: Colosseum.',
      error: null,
      startedAt: new Date(Number(T0 / MS)).toISOString(),
      completedAt: new Date(Number(T0 / MS) + 2000).toISOString(),
      durationMs: 2000,
      conversationId: 'conv_5j66',
      endUserId: 'customer-42',
      model: 'gpt-4o',
      // The two chat calls; the agent span's own 999/999 is their sum reported again.
      promptTokens: 2500,
      completionTokens: 500,
      totalTokens: 3000,
    });
    expect(task.nodes.map((node) => [node.name, node.kind, node.durationMs, node.success])).toEqual([
      ['chat gpt-4o', 'model', 500, true],
      ['execute_tool search_flights', 'tool', 300, false],
      ['chat gpt-4o', 'model', 1000, true],
    ]);
    expect(task.nodes[0]).toMatchObject({
      model: 'gpt-4o-2024-08-06',
      provider: 'openai',
      promptTokens: 1000,
      cacheReadTokens: 400,
      completionTokens: 200,
    });
    expect(task.nodes[1]?.error).toBe('TimeoutError: no answer in 30 s');
    expect(task.nodes[2]?.reasoningTokens).toBe(100);
  });

  it('prices each call from the price table (cache reads at their price) and sums them', () => {
    const task = only(mapTrace([agent, chat1, tool, chat2]).tasks);
    const first = estimateCost('gpt-4o-2024-08-06', 1000, 200, { cachedPromptTokens: 400 });
    const second = estimateCost('gpt-4o', 1500, 300, { reasoningTokens: 100 });
    expect(first).not.toBeNull();
    expect(task.nodes[0]?.estimatedCost).toBe(first);
    expect(task.estimatedCost).toBeCloseTo((first ?? 0) + (second ?? 0), 6);
    // The cached part is cheaper than uncached input.
    expect(first).toBeLessThan(estimateCost('gpt-4o', 1000, 200) ?? 0);
  });

  it('fails the task of an agent span with an error status, with its message', () => {
    const failed = { ...agent, status: { code: 2 as const, message: 'budget exceeded' } };
    expect(only(mapTrace([failed]).tasks)).toMatchObject({
      status: 'failed',
      error: 'budget exceeded',
      result: null,
    });
  });

  it('leaves the usage unknown when a model call reports none, never 0', () => {
    const silent = span('c3', 'a1', 'chat gpt-4o', [1900, 1950], { 'gen_ai.operation.name': 'chat' });
    const task = only(mapTrace([agent, chat1, silent]).tasks);
    expect(task).toMatchObject({
      promptTokens: null,
      completionTokens: null,
      totalTokens: null,
      estimatedCost: null,
    });
    const bare = span('b1', null, 'invoke_agent', [0, 10], {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'x',
    });
    expect(only(mapTrace([bare]).tasks)).toMatchObject({
      totalTokens: null,
      estimatedCost: null,
      model: null,
    });
  });

  it("counts the agent span's own usage when no call below it reports any", () => {
    const lone = span('b2', null, 'invoke_agent Solo', [0, 10], {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    });
    expect(only(mapTrace([lone]).tasks)).toMatchObject({
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
    });
  });

  it('makes a nested agent a node of its parent and a task of its own, its calls counted once', () => {
    const sub = span('a2', 'c1', 'invoke_agent Hotel Finder', [200, 500], {
      'gen_ai.operation.name': 'invoke_agent',
    });
    const subChat = span('c9', 'a2', 'chat gpt-4o', [210, 490], {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.output_tokens': 5,
    });
    const { tasks } = mapTrace([agent, chat1, sub, subChat]);
    const parent = tasks.find((task) => task.agentName === 'Travel Planner');
    const child = tasks.find((task) => task.agentName === 'Hotel Finder');
    expect(parent?.nodes.map((node) => node.name)).toEqual(['chat gpt-4o', 'invoke_agent Hotel Finder']);
    expect(parent?.promptTokens).toBe(1000);
    expect(child?.nodes.map((node) => node.name)).toEqual(['chat gpt-4o']);
    expect(child?.promptTokens).toBe(50);
    // The parent's chat span is above the sub-agent, but only its own usage counts for the parent.
    expect(child?.command).toBe('invoke_agent Hotel Finder');
  });

  it('keeps spans without their agent span pending, and attaches them once it arrives', () => {
    const early = mapTrace([chat1, tool]);
    expect(early.tasks).toEqual([]);
    expect(early.pendingSpanIds.sort()).toEqual([chat1.spanId, tool.spanId].sort());
    expect(only(mapTrace([chat1, tool, agent]).tasks).nodes).toHaveLength(2);
  });

  it('reads gen_ai.evaluation.result events', () => {
    const evaluated = {
      ...agent,
      events: [
        event('gen_ai.evaluation.result', {
          'gen_ai.evaluation.name': 'Relevance',
          'gen_ai.evaluation.score.value': 0.7,
          'gen_ai.evaluation.score.label': 'relevant',
          'gen_ai.evaluation.explanation': 'On topic',
          'gen_ai.response.id': 'chatcmpl-1',
        }),
        event('gen_ai.evaluation.result', { 'gen_ai.evaluation.score.value': 1 }),
        event('gen_ai.evaluation.result', {
          'gen_ai.evaluation.name': 'Toxicity',
          'gen_ai.evaluation.score.value': '0',
        }),
      ],
    };
    expect(readEvaluations(evaluated)).toEqual([
      {
        spanId: agent.spanId,
        eventIndex: 0,
        name: 'Relevance',
        value: 0.7,
        label: 'relevant',
        explanation: 'On topic',
        responseId: 'chatcmpl-1',
        evaluatedAt: new Date(Number(T0 / MS)).toISOString(),
      },
      {
        spanId: agent.spanId,
        eventIndex: 2,
        name: 'Toxicity',
        value: 0,
        label: null,
        explanation: null,
        responseId: null,
        evaluatedAt: new Date(Number(T0 / MS)).toISOString(),
      },
    ]);
    expect(only(mapTrace([evaluated]).tasks).evaluations).toHaveLength(2);
  });
});

describe('older GenAI names', () => {
  it('reads gen_ai.system, prompt/completion tokens and gen_ai.prompt / gen_ai.completion', () => {
    const agent = span('a1', null, 'invoke_agent', [0, 100], {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'agent-007',
      'gen_ai.prompt': 'Summarize the report',
      'gen_ai.completion': 'The report says...',
    });
    const chat = span('c1', 'a1', 'chat', [10, 90], {
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.usage.prompt_tokens': 70,
      'gen_ai.usage.completion_tokens': 30,
      'gen_ai.usage.cache_read_input_tokens': 20,
    });
    const task = only(mapTrace([agent, chat]).tasks);
    expect(task).toMatchObject({
      agentName: 'agent-007',
      command: 'Summarize the report',
      result: 'The report says...',
      promptTokens: 70,
      completionTokens: 30,
      model: 'claude-sonnet-4-5',
    });
    expect(task.nodes[0]).toMatchObject({ kind: 'model', provider: 'anthropic', cacheReadTokens: 20 });
  });

  it("cuts a node's provider to the 200 characters its column holds", () => {
    const agent = span('a1', null, 'invoke_agent Cutter', [0, 100], {
      'gen_ai.operation.name': 'invoke_agent',
    });
    const chat = span('c1', 'a1', 'chat', [10, 90], {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'p'.repeat(300),
      'gen_ai.request.model': 'gpt-4o',
    });
    const task = only(mapTrace([agent, chat]).tasks);
    expect(task.nodes[0]?.provider).toBe('p'.repeat(200));
  });

  it('reads messages from gen_ai.user.message and gen_ai.choice events', () => {
    const agent = span(
      'a1',
      null,
      'invoke_agent Support',
      [0, 100],
      {},
      {
        events: [
          event('gen_ai.system.message', { content: 'Be kind.' }),
          event('gen_ai.user.message', { content: 'Where is my order?' }),
          event('gen_ai.choice', {
            index: 0,
            finish_reason: 'stop',
            message: JSON.stringify({ role: 'assistant', content: 'It ships tomorrow.' }),
          }),
        ],
      },
    );
    expect(readInputText(agent)).toBe('Where is my order?');
    expect(readOutputText(agent)).toBe('It ships tomorrow.');
    expect(only(mapTrace([agent]).tasks).agentName).toBe('Support');
  });

  it('reads gen_ai.content.prompt / completion events and OpenLLMetry indexed messages', () => {
    const withEvents = span(
      'a1',
      null,
      'invoke_agent x',
      [0, 1],
      {},
      {
        events: [
          event('gen_ai.content.prompt', {
            'gen_ai.prompt': JSON.stringify([{ role: 'user', content: 'hello' }]),
          }),
          event('gen_ai.content.completion', {
            'gen_ai.completion': JSON.stringify([{ role: 'assistant', content: 'hi!' }]),
          }),
        ],
      },
    );
    expect(readInputText(withEvents)).toBe('hello');
    expect(readOutputText(withEvents)).toBe('hi!');
    const indexed = span('c1', null, 'openai.chat', [0, 1], {
      'gen_ai.prompt.0.role': 'system',
      'gen_ai.prompt.0.content': 'sys',
      'gen_ai.prompt.1.role': 'user',
      'gen_ai.prompt.1.content': 'translate this',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.content': 'traduis ceci',
    });
    expect(readInputText(indexed)).toBe('translate this');
    expect(readOutputText(indexed)).toBe('traduis ceci');
  });

  it('reads the usage names of every convention, int64 as text included', () => {
    expect(readUsage({ 'gen_ai.usage.input_tokens': '12', 'gen_ai.usage.output_tokens': 3 })).toEqual({
      inputTokens: 12,
      outputTokens: 3,
      cacheReadTokens: null,
      cacheWriteTokens: null,
      reasoningTokens: null,
    });
    expect(readUsage({ 'gen_ai.usage.input_tokens': -1, 'gen_ai.usage.output_tokens': 2.5 })).toMatchObject({
      inputTokens: null,
      outputTokens: null,
    });
    expect(
      readUsage({
        'gen_ai.usage.input_tokens.cached': 4,
        'gen_ai.usage.cache_creation.input_tokens': 5,
        'gen_ai.usage.reasoning_tokens': 6,
      }),
    ).toMatchObject({ cacheReadTokens: 4, cacheWriteTokens: 5, reasoningTokens: 6 });
  });
});

describe('Pydantic AI before its instrumentation version 3', () => {
  it("makes an 'agent run' span a task of its agent_name, 'running tool' a tool node, final_result its result", () => {
    const run = span('p1', null, 'agent run', [0, 900], {
      agent_name: 'support_agent',
      model_name: 'gpt-4o',
      final_result: 'Your order ships tomorrow.',
    });
    const chat = span('p2', 'p1', 'chat gpt-4o', [10, 400], {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 60,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.input.messages': JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] },
      ]),
    });
    const tool = span('p3', 'p1', 'running tool', [400, 500], { 'gen_ai.tool.name': 'order_status' });
    expect(classifySpan(run)).toBe('agent');
    const task = only(mapTrace([run, chat, tool]).tasks);
    expect(task).toMatchObject({
      agentName: 'support_agent',
      command: 'Where is my order?',
      result: 'Your order ships tomorrow.',
      promptTokens: 60,
      completionTokens: 12,
    });
    expect(task.nodes.map((node) => [node.name, node.kind])).toEqual([
      ['chat gpt-4o', 'model'],
      ['running tool', 'tool'],
    ]);
    // Another framework's span called 'agent run' without agent_name is a step.
    expect(classifySpan(span('x1', null, 'agent run', [0, 1]))).toBe('step');
  });
});

describe('Vercel AI SDK spans', () => {
  const generate = span('v1', null, 'ai.generateText', [0, 1000], {
    'ai.operationId': 'ai.generateText',
    'ai.telemetry.functionId': 'recipe-bot',
    'ai.model.id': 'gpt-4o-mini',
    'ai.model.provider': 'openai.chat',
    'ai.prompt': JSON.stringify({ system: 'You cook.', prompt: 'A recipe with leeks' }),
    'ai.response.text': 'Leek and potato soup.',
    'ai.usage.promptTokens': 180,
    'ai.usage.completionTokens': 90,
  });
  const step1 = span('v2', 'v1', 'ai.generateText.doGenerate', [10, 400], {
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.model.id': 'gpt-4o-mini',
    'ai.prompt.messages': JSON.stringify([
      { role: 'user', content: [{ type: 'text', text: 'A recipe with leeks' }] },
    ]),
    'ai.usage.promptTokens': 80,
    'ai.usage.completionTokens': 20,
  });
  const toolCall = span('v3', 'v1', 'ai.toolCall', [400, 500], {
    'ai.operationId': 'ai.toolCall',
    'ai.toolCall.name': 'pantry',
  });
  const step2 = span('v4', 'v1', 'ai.generateText.doGenerate', [500, 990], {
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.model.id': 'gpt-4o-mini',
    'ai.usage.inputTokens': 100,
    'ai.usage.outputTokens': 70,
  });

  it('makes the outermost ai.generateText a task, doGenerate model calls and ai.toolCall a tool node', () => {
    expect(classifySpan(generate)).toBe('agent_candidate');
    expect(readStepKind(step1)).toBe('model');
    expect(readStepKind(toolCall)).toBe('tool');
    const task = only(mapTrace([generate, step1, toolCall, step2]).tasks);
    expect(task).toMatchObject({
      agentName: 'recipe-bot',
      command: 'A recipe with leeks',
      result: 'Leek and potato soup.',
      model: 'gpt-4o-mini',
      // The doGenerate calls (80 + 100, 20 + 70); the outer span's own totals are not added again.
      promptTokens: 180,
      completionTokens: 90,
    });
    expect(task.nodes.map((node) => node.kind)).toEqual(['model', 'tool', 'model']);
    expect(task.estimatedCost).toBeCloseTo(
      (estimateCost('gpt-4o-mini', 80, 20) ?? 0) + (estimateCost('gpt-4o-mini', 100, 70) ?? 0),
      6,
    );
  });

  it('is a node, not a task, under an invoke_agent span; and waits while its parent is unknown', () => {
    const agent = span('a0', null, 'invoke_agent Chef', [0, 2000], {
      'gen_ai.operation.name': 'invoke_agent',
    });
    const nested = { ...generate, parentSpanId: agent.spanId };
    const { tasks } = mapTrace([agent, nested, step1, toolCall, step2]);
    const task = only(tasks);
    expect(task.agentName).toBe('Chef');
    expect(task.nodes.map((node) => node.name)).toEqual([
      'ai.generateText',
      'ai.generateText.doGenerate',
      'ai.toolCall',
      'ai.generateText.doGenerate',
    ]);
    expect(task.promptTokens).toBe(180);
    expect(task.command).toBe('A recipe with leeks');
    const waiting = mapTrace([nested, step1]);
    expect(waiting.tasks).toEqual([]);
    expect(waiting.pendingSpanIds).toHaveLength(2);
  });
});

describe('OpenInference spans', () => {
  it('makes an AGENT span a task with LLM, TOOL and CHAIN spans its nodes', () => {
    const agent = span('o1', null, 'research_agent', [0, 900], {
      'openinference.span.kind': 'AGENT',
      'input.value': 'Find three papers on RAG',
      'output.value': '1. ..., 2. ..., 3. ...',
      'session.id': 'sess-9',
    });
    const chain = span('o2', 'o1', 'plan', [5, 100], { 'openinference.span.kind': 'CHAIN' });
    const llm = span('o3', 'o2', 'ChatOpenAI', [10, 90], {
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'gpt-4o-mini',
      'llm.provider': 'openai',
      'llm.token_count.prompt': 40,
      'llm.token_count.completion': 10,
      'llm.token_count.prompt_details.cache_read': 8,
      'llm.input_messages.0.message.role': 'user',
      'llm.input_messages.0.message.content': 'plan it',
    });
    const tool = span('o4', 'o1', 'arxiv_search', [100, 800], {
      'openinference.span.kind': 'TOOL',
      'tool.name': 'arxiv_search',
    });
    expect(classifySpan(agent)).toBe('agent');
    const task = only(mapTrace([agent, chain, llm, tool]).tasks);
    expect(task).toMatchObject({
      agentName: 'research_agent',
      command: 'Find three papers on RAG',
      result: '1. ..., 2. ..., 3. ...',
      conversationId: 'sess-9',
      model: 'gpt-4o-mini',
      promptTokens: 40,
      completionTokens: 10,
      totalTokens: 50,
    });
    expect(task.nodes.map((node) => [node.name, node.kind])).toEqual([
      ['plan', 'other'],
      ['ChatOpenAI', 'model'],
      ['arxiv_search', 'tool'],
    ]);
    expect(task.nodes[1]).toMatchObject({ provider: 'openai', cacheReadTokens: 8 });
  });

  it('takes the agent name from agent.name when given', () => {
    expect(
      readAgentName(
        span('o1', null, 'run', [0, 1], { 'openinference.span.kind': 'AGENT', 'agent.name': 'Scout' }),
      ),
    ).toBe('Scout');
  });
});

describe('span checks', () => {
  it('rejects malformed ids, times and nameless agent spans, naming why', () => {
    const good = span('01', null, 'chat', [0, 1]);
    expect(findSpanDefect(good)).toBeNull();
    expect(findSpanDefect({ ...good, traceId: '0'.repeat(32) })).toContain('trace id');
    expect(findSpanDefect({ ...good, spanId: 'XYZ' })).toContain('span id');
    expect(findSpanDefect({ ...good, parentSpanId: good.spanId })).toContain('its own parent');
    expect(findSpanDefect({ ...good, endTimeUnixNano: good.startTimeUnixNano - 1n })).toContain('end time');
    expect(findSpanDefect({ ...good, startTimeUnixNano: 0n })).toContain('start time');
    expect(
      findSpanDefect({
        ...good,
        name: 'invoke_agent',
        attributes: { 'gen_ai.operation.name': 'invoke_agent' },
        resource: {},
      }),
    ).toContain('names no agent');
  });

  it('drops U+0000 that a JSON message decodes to (text columns refuse it)', () => {
    const agent = span('a1', null, 'invoke_agent x', [0, 1], {
      'gen_ai.input.messages': '[{"role":"user","content":"hel\\u0000lo"}]',
    });
    expect(readInputText(agent)).toBe('hel\u0000lo');
    expect(only(mapTrace([agent]).tasks).command).toBe('hello');
  });

  it('derives one task id per project, trace and agent span', () => {
    const a = deriveTaskId('00000000-0000-0000-0000-000000000000', TRACE, '00000000000000a1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deriveTaskId('00000000-0000-0000-0000-000000000000', TRACE, '00000000000000a1')).toBe(a);
    expect(deriveTaskId('11111111-0000-0000-0000-000000000000', TRACE, '00000000000000a1')).not.toBe(a);
  });
});
