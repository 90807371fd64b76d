import { context, DiagLogLevel, diag, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey } from '../../src/identity/identity.queries.js';
import { DEFAULT_PROJECT_ID } from '../support/app.js';
import { type LiveServer, startLiveServer } from '../support/live-server.js';

/**
 * Real OpenTelemetry SDK spans sent by the two OTLP/HTTP exporters (protobuf and JSON), gzip on and
 * off, to a listening Merit in required mode with an ingest key; what Merit stored is read back.
 */

type ExporterKind = 'protobuf' | 'json';
type Compression = 'none' | 'gzip';

interface ExportOutcome {
  code: number;
  error?: Error & { code?: number };
}

const SUCCESS = 0;
const FAILED = 1;

function createExporter(
  kind: ExporterKind,
  options: { url?: string; key?: string | null; compression?: Compression },
): SpanExporter {
  const config = {
    ...(options.url ? { url: options.url } : {}),
    ...(options.key ? { headers: { Authorization: `Bearer ${options.key}` } } : {}),
    ...(options.compression ? { compression: options.compression } : {}),
    timeoutMillis: 10_000,
  } as ConstructorParameters<typeof ProtobufTraceExporter>[0];
  return kind === 'protobuf' ? new ProtobufTraceExporter(config) : new JsonTraceExporter(config);
}

function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportOutcome> {
  return new Promise((resolve) => exporter.export(spans, (result) => resolve(result as ExportOutcome)));
}

/**
 * One agent run as GenAI semantic conventions describe it: an invoke_agent span with a model call and
 * a tool call under it.
 */
function recordAgentRun(
  provider: NodeTracerProvider,
  agent: string,
  conversation: string,
  toolAttributes: Record<string, string> = {},
): string {
  const tracer = provider.getTracer('merit-otlp-test', '1.0.0');
  const agentSpan = tracer.startSpan(`invoke_agent ${agent}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': agent,
      'gen_ai.conversation.id': conversation,
      'gen_ai.input.messages': JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'Find flights to Lisbon' }] },
      ]),
    },
  });
  const inAgent = trace.setSpan(context.active(), agentSpan);
  const chat = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 30,
      },
    },
    inAgent,
  );
  chat.end();
  const tool = tracer.startSpan(
    'execute_tool search_flights',
    {
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'search_flights',
        ...toolAttributes,
      },
    },
    inAgent,
  );
  tool.end();
  agentSpan.setAttribute(
    'gen_ai.output.messages',
    JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'TP 1234 at 9:05' }] }]),
  );
  agentSpan.setStatus({ code: SpanStatusCode.OK });
  agentSpan.end();
  return agentSpan.spanContext().traceId;
}

/**
 * An agent run whose model calls report what a node keeps of them: one with today's attributes (response
 * model, gen_ai.provider.name, cache-read and reasoning tokens), one with the older gen_ai.system and only
 * the requested model (not in the price table), and a tool call between them.
 */
function recordModelCalls(provider: NodeTracerProvider, agent: string): string {
  const tracer = provider.getTracer('merit-otlp-test', '1.0.0');
  // Explicit times, 100 ms apart: the nodes' order is the spans' time order.
  const start = Date.now() - 10_000;
  const agentSpan = tracer.startSpan(`invoke_agent ${agent}`, {
    startTime: start,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent },
  });
  const inAgent = trace.setSpan(context.active(), agentSpan);
  let offset = 0;
  const child = (name: string, attributes: Record<string, string | number>) => {
    offset += 100;
    tracer
      .startSpan(name, { kind: SpanKind.CLIENT, startTime: start + offset, attributes }, inAgent)
      .end(start + offset + 80);
  };
  child('chat gpt-4o', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 200,
    'gen_ai.usage.cache_read.input_tokens': 400,
    'gen_ai.usage.reasoning.output_tokens': 50,
  });
  child('execute_tool search_flights', {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'search_flights',
  });
  child('chat house-model', {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'anthropic',
    'gen_ai.request.model': 'house-model-unlisted',
    'gen_ai.usage.input_tokens': 300,
    'gen_ai.usage.output_tokens': 40,
  });
  agentSpan.end(start + 1000);
  return agentSpan.spanContext().traceId;
}

describe('OTLP exporters against a live Merit (required mode, embedded PostgreSQL)', () => {
  let server: LiveServer;
  let ingestKey: string;

  async function createKey(scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(server.services.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      name: `otlp ${scopes.join('+')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  interface StoredSpan {
    span_id: string;
    parent_span_id: string | null;
    name: string;
    role: string;
    project_id: string;
    task_id: string | null;
  }

  async function storedSpans(traceId: string): Promise<StoredSpan[]> {
    const { rows } = await server.database.pool.query<StoredSpan>(
      `SELECT span_id, parent_span_id, name, role, project_id, task_id FROM otel_spans
       WHERE trace_id = $1 ORDER BY role = 'agent' DESC, name`,
      [traceId],
    );
    return rows;
  }

  /** The task an agent span became, and its nodes' names in order. */
  async function storedTask(traceId: string) {
    const { rows } = await server.database.pool.query<{
      id: string;
      agent_id: string;
      status: string;
      project_id: string;
    }>(
      `SELECT t.id, t.agent_id, t.status, t.project_id FROM otel_spans s
       JOIN tasks t ON t.project_id = s.project_id AND t.id = s.task_id
       WHERE s.trace_id = $1 AND s.role = 'agent'`,
      [traceId],
    );
    const task = rows[0];
    if (!task) return undefined;
    const nodes = await server.database.pool.query<{ node_name: string }>(
      'SELECT node_name FROM agent_node_performance WHERE task_id = $1 ORDER BY sequence',
      [task.id],
    );
    return { ...task, nodes: nodes.rows.map((node) => node.node_name), count: rows.length };
  }

  /** Spans recorded by a provider with an in-memory exporter, to hand to an OTLP exporter in any order. */
  function captureAgentRun(
    agent: string,
    toolAttributes: Record<string, string> = {},
  ): { traceId: string; spans: ReadableSpan[] } {
    const memory = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otlp-exporters-test' }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const traceId = recordAgentRun(provider, agent, `conversation-${agent}`, toolAttributes);
    return { traceId, spans: memory.getFinishedSpans() };
  }

  beforeAll(async () => {
    server = await startLiveServer({ MERIT_AUTH: 'required', MERIT_RATE_REQUESTS_PER_MINUTE: '100000' });
    ingestKey = await createKey(['ingest']);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const variants: [ExporterKind, Compression][] = [
    ['protobuf', 'none'],
    ['protobuf', 'gzip'],
    ['json', 'none'],
    ['json', 'gzip'],
  ];

  it.each(variants)(
    'stores an agent run sent by the %s exporter (compression %s) through a BatchSpanProcessor',
    async (kind, compression) => {
      const exporter = createExporter(kind, { url: `${server.url}/v1/traces`, key: ingestKey, compression });
      const provider = new NodeTracerProvider({
        resource: resourceFromAttributes({ 'service.name': `otlp-${kind}-${compression}` }),
        spanProcessors: [new BatchSpanProcessor(exporter)],
      });
      const agent = `travel_${kind}_${compression}`;
      const traceId = recordAgentRun(provider, agent, `conversation-${kind}-${compression}`);
      await provider.forceFlush();
      await provider.shutdown();

      const spans = await storedSpans(traceId);
      expect(spans.map((span) => [span.name, span.role, span.project_id])).toEqual([
        [`invoke_agent ${agent}`, 'agent', DEFAULT_PROJECT_ID],
        ['chat gpt-4o', 'step', DEFAULT_PROJECT_ID],
        ['execute_tool search_flights', 'step', DEFAULT_PROJECT_ID],
      ]);
      const root = spans[0] as StoredSpan;
      expect(root.parent_span_id).toBeNull();
      expect(spans.slice(1).map((span) => span.parent_span_id)).toEqual([root.span_id, root.span_id]);
      const task = await storedTask(traceId);
      expect(task).toMatchObject({ status: 'completed', project_id: DEFAULT_PROJECT_ID, count: 1 });
      // One node per child span (their names are the mapping's: docs/OTEL.md).
      expect(task?.nodes).toHaveLength(2);
    },
  );

  it.each(['protobuf', 'json'] as const)(
    "gives each node its call's model, provider, cache-read and reasoning tokens and cost (%s exporter)",
    async (kind) => {
      const exporter = createExporter(kind, {
        url: `${server.url}/v1/traces`,
        key: ingestKey,
        compression: 'gzip',
      });
      const provider = new NodeTracerProvider({
        resource: resourceFromAttributes({ 'service.name': `otlp-models-${kind}` }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      const traceId = recordModelCalls(provider, `models_${kind}`);
      await provider.forceFlush();
      await provider.shutdown();

      const task = await storedTask(traceId);
      const readKey = await createKey(['read']);
      const response = await fetch(`${server.url}/api/tasks/${task?.id}`, {
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { nodes: Record<string, unknown>[] };
      const call = (node: Record<string, unknown>) => [
        node.node_name,
        node.model,
        node.provider,
        node.prompt_tokens,
        node.completion_tokens,
        node.cache_read_tokens,
        node.reasoning_tokens,
        node.estimated_cost,
      ];
      expect(body.nodes.map((node: Record<string, unknown>) => node.duration_ms)).toEqual([80, 80, 80]);
      expect(body.nodes.map(call)).toEqual([
        // gpt-4o (the dated name's price): 600 x 2.5 + 400 cached x 1.25 + 200 x 10 per million.
        ['chat gpt-4o', 'gpt-4o-2024-08-06', 'openai', 1000, 200, 400, 50, 0.004],
        ['execute_tool search_flights', null, null, null, null, null, null, null],
        // No price for the model: the cost is unknown, not 0.
        ['chat house-model', 'house-model-unlisted', 'anthropic', 300, 40, null, null, null],
      ]);
      // The task's cost is unknown too (one call is unpriced); its tokens are the sums.
      expect(body).toMatchObject({ prompt_tokens: 1300, completion_tokens: 240, estimated_cost: null });
    },
  );

  it.each(variants)(
    'attaches children exported before their agent span, and stores duplicates once (%s, %s)',
    async (kind, compression) => {
      const { traceId, spans } = captureAgentRun(`reorder_${kind}_${compression}`);
      const agentSpan = spans.find((span) => span.name.startsWith('invoke_agent')) as ReadableSpan;
      const children = spans.filter((span) => span !== agentSpan);
      const exporter = createExporter(kind, {
        url: `${server.url}/api/otel/v1/traces`,
        key: ingestKey,
        compression,
      });
      try {
        expect((await exportSpans(exporter, children)).code).toBe(SUCCESS);
        const waiting = await storedSpans(traceId);
        expect(waiting.map((span) => [span.role, span.task_id])).toEqual([
          ['step', null],
          ['step', null],
        ]);
        expect((await exportSpans(exporter, [agentSpan])).code).toBe(SUCCESS);
        expect((await exportSpans(exporter, [...children, agentSpan])).code).toBe(SUCCESS);
        expect((await exportSpans(exporter, [agentSpan])).code).toBe(SUCCESS);
      } finally {
        await exporter.shutdown();
      }
      const stored = await storedSpans(traceId);
      expect(stored).toHaveLength(3);
      const task = await storedTask(traceId);
      expect(task).toMatchObject({ status: 'completed', count: 1 });
      expect(new Set(stored.map((span) => span.task_id))).toEqual(new Set([task?.id]));
      // One node per child span (their names are the mapping's: docs/OTEL.md).
      expect(task?.nodes).toHaveLength(2);
    },
  );

  it.each(['protobuf', 'json'] as const)(
    'fails the %s export with 401 for a missing or unknown key and 403 for a key without ingest',
    async (kind) => {
      const readKey = await createKey(['read']);
      const { traceId, spans } = captureAgentRun(`refused_${kind}`);
      const cases: [string | null, number][] = [
        [null, 401],
        [generateKeySecret().secret, 401],
        [readKey, 403],
      ];
      for (const [key, status] of cases) {
        const exporter = createExporter(kind, { url: `${server.url}/v1/traces`, key, compression: 'gzip' });
        try {
          const outcome = await exportSpans(exporter, spans);
          expect(outcome.code).toBe(FAILED);
          expect(outcome.error?.code).toBe(status);
        } finally {
          await exporter.shutdown();
        }
      }
      expect(await storedSpans(traceId)).toEqual([]);
    },
  );

  it.each(['protobuf', 'json'] as const)(
    'reports the spans Merit rejected to the %s exporter as a partial success, and stores the rest',
    async (kind) => {
      const warnings: string[] = [];
      const record = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
      diag.setLogger(
        { error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} },
        DiagLogLevel.WARN,
      );
      // PostgreSQL cannot store U+0000: the tool span is rejected, its siblings are not.
      const { traceId, spans } = captureAgentRun(`partial_${kind}`, { 'tool.output': 'bytes\u0000here' });
      const exporter = createExporter(kind, {
        url: `${server.url}/v1/traces`,
        key: ingestKey,
        compression: 'gzip',
      });
      try {
        expect((await exportSpans(exporter, spans)).code).toBe(SUCCESS);
      } finally {
        await exporter.shutdown();
        diag.disable();
      }
      const partial = warnings.find((warning) => warning.startsWith('Received Partial Success response:'));
      expect(partial).toMatch(/"rejectedSpans":("1"|1)/);
      expect(partial).toMatch(/attributes\.tool\.output: must not contain NUL \(U\+0000\) characters/);
      expect((await storedSpans(traceId)).map((span) => span.name)).toEqual([
        `invoke_agent partial_${kind}`,
        'chat gpt-4o',
      ]);
    },
  );

  it('takes the endpoint and the key from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS', async () => {
    const saved = {
      endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      headers: process.env.OTEL_EXPORTER_OTLP_HEADERS,
    };
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${server.url}/v1/traces`;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = `Authorization=Bearer%20${ingestKey}`;
    try {
      for (const kind of ['protobuf', 'json'] as const) {
        const { traceId, spans } = captureAgentRun(`from_env_${kind}`);
        const exporter = createExporter(kind, {});
        try {
          expect((await exportSpans(exporter, spans)).code).toBe(SUCCESS);
        } finally {
          await exporter.shutdown();
        }
        expect(await storedSpans(traceId)).toHaveLength(3);
      }
    } finally {
      for (const [name, value] of [
        ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', saved.endpoint],
        ['OTEL_EXPORTER_OTLP_HEADERS', saved.headers],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
