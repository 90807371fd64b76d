/**
 * How OpenTelemetry spans become Merit tasks, nodes and scores. Pure functions of plain spans.
 *
 * Conventions read, in this order of preference for each figure:
 * - GenAI semantic conventions (open-telemetry/semantic-conventions-genai): `invoke_agent` spans are
 *   tasks; `chat`/`generate_content`/`text_completion`/`embeddings` spans are model calls;
 *   `execute_tool` spans are tool calls; `gen_ai.evaluation.result` events are scores.
 * - Their older names: `gen_ai.system`, `gen_ai.usage.prompt_tokens`/`completion_tokens`,
 *   `gen_ai.prompt`/`gen_ai.completion` (also indexed, as OpenLLMetry writes them), and the
 *   `gen_ai.user.message`, `gen_ai.choice`, `gen_ai.content.prompt`/`completion` events.
 * - The Vercel AI SDK (`ai.*`): an outermost `ai.generateText`/`streamText`/`generateObject`/
 *   `streamObject` is a task when no agent span is above it; `*.doGenerate`/`*.doStream` are model
 *   calls, `ai.toolCall` a tool call.
 * - OpenInference (`openinference.span.kind`): AGENT is a task; LLM and EMBEDDING are model calls,
 *   TOOL a tool call, CHAIN and the rest other steps.
 */
import { createHash } from 'node:crypto';
import { estimateCost } from '../llm/pricing.js';
import { MAX_DURATION_MS, MAX_TOKENS } from '../tasks/task-schemas.js';
import type { Attributes, AttributeValue, OtlpSpan, OtlpSpanEvent } from './otlp-span.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
/** The largest BIGINT: nanoseconds since the epoch up to the year 2262. */
const MAX_UNIX_NANO = 9_223_372_036_854_775_807n;
/** Limits of the task and node columns (src/tasks/task-schemas.ts). */
const MAX_COMMAND_CHARS = 20_000;
const MAX_RESULT_CHARS = 1_000_000;
const MAX_ERROR_CHARS = 10_000;
const MAX_NODE_NAME_CHARS = 100;
const MAX_MODEL_CHARS = 200;
/** agent_node_performance.provider is 1 to 200 characters. */
const MAX_PROVIDER_CHARS = 200;
/** agents.external_name is 1 to 200 characters. */
const MAX_AGENT_NAME_CHARS = 200;

const MODEL_OPERATIONS = new Set(['chat', 'generate_content', 'text_completion', 'embeddings']);
const MODEL_SPAN_NAME = /^(chat|generate_content|text_completion|embeddings)(\s|$)/;
/** The Vercel AI SDK's calls that are a task when no agent span is above them. */
const VERCEL_TASK_OPERATIONS = new Set([
  'ai.generateText',
  'ai.streamText',
  'ai.generateObject',
  'ai.streamObject',
]);
const VERCEL_MODEL_CALL = /^ai\.\w+\.(doGenerate|doStream|doEmbed)$/;

/** What mapping reads of a span: the contract's span, ids and times included. */
export type MappableSpan = Pick<
  OtlpSpan,
  | 'traceId'
  | 'spanId'
  | 'parentSpanId'
  | 'name'
  | 'startTimeUnixNano'
  | 'endTimeUnixNano'
  | 'attributes'
  | 'resource'
  | 'events'
  | 'status'
>;

/** Why a span cannot be stored, or null when it can. */
export function findSpanDefect(span: OtlpSpan): string | null {
  if (!TRACE_ID.test(span.traceId) || span.traceId === ZERO_TRACE_ID)
    return `span ${span.spanId}: trace id ${JSON.stringify(span.traceId)} is not 32 hex digits, not all zero`;
  if (!SPAN_ID.test(span.spanId) || span.spanId === ZERO_SPAN_ID)
    return `span ${JSON.stringify(span.spanId)}: span id is not 16 hex digits, not all zero`;
  if (span.parentSpanId !== null && !SPAN_ID.test(span.parentSpanId))
    return `span ${span.spanId}: parent span id ${JSON.stringify(span.parentSpanId)} is not 16 hex digits`;
  if (span.parentSpanId === span.spanId) return `span ${span.spanId}: is its own parent`;
  if (span.startTimeUnixNano <= 0n || span.startTimeUnixNano > MAX_UNIX_NANO)
    return `span ${span.spanId}: start time is missing or out of range`;
  if (span.endTimeUnixNano < span.startTimeUnixNano || span.endTimeUnixNano > MAX_UNIX_NANO)
    return `span ${span.spanId}: end time is before its start time or out of range`;
  if (span.status.code !== 0 && span.status.code !== 1 && span.status.code !== 2)
    return `span ${span.spanId}: status code ${String(span.status.code)} is not 0, 1 or 2`;
  if (!Number.isInteger(span.kind) || span.kind < 0 || span.kind > 5)
    return `span ${span.spanId}: kind ${String(span.kind)} is not 0 to 5`;
  if (classifySpan(span) !== 'step' && readAgentName(span) === null)
    return `span ${span.spanId}: agent span names no agent (gen_ai.agent.name, gen_ai.agent.id or service.name)`;
  return null;
}

/**
 * What a span is on its own: `agent` (a task), `agent_candidate` (a task unless an agent span is above
 * it: the Vercel AI SDK's outer calls) or `step` (a node of the task above it).
 */
export type SpanClass = 'agent' | 'agent_candidate' | 'step';

export function classifySpan(span: Pick<OtlpSpan, 'name' | 'attributes'>): SpanClass {
  const { attributes } = span;
  if (
    readText(attributes, 'gen_ai.operation.name') === 'invoke_agent' ||
    span.name.startsWith('invoke_agent')
  )
    return 'agent';
  if (readText(attributes, 'openinference.span.kind')?.toUpperCase() === 'AGENT') return 'agent';
  if (isLegacyPydanticAgentRun(span)) return 'agent';
  if (VERCEL_TASK_OPERATIONS.has(readText(attributes, 'ai.operationId') ?? span.name))
    return 'agent_candidate';
  return 'step';
}

/** Pydantic AI's agent run span before its instrumentation version 3: `agent run`, with `agent_name`. */
function isLegacyPydanticAgentRun(span: Pick<OtlpSpan, 'name' | 'attributes'>): boolean {
  return span.name === 'agent run' && readText(span.attributes, 'agent_name') !== null;
}

/** What a step does: a model call (its usage is the task's), a tool call, an agent's invocation, else other. */
export type StepKind = 'model' | 'tool' | 'agent' | 'other';

export function readStepKind(span: Pick<OtlpSpan, 'name' | 'attributes'>): StepKind {
  const { attributes } = span;
  const operation = readText(attributes, 'gen_ai.operation.name');
  if (operation === 'invoke_agent' || span.name.startsWith('invoke_agent')) return 'agent';
  if (isLegacyPydanticAgentRun(span)) return 'agent';
  if (operation !== null && MODEL_OPERATIONS.has(operation)) return 'model';
  if (operation === 'execute_tool') return 'tool';
  const openInference = readText(attributes, 'openinference.span.kind')?.toUpperCase();
  if (openInference === 'AGENT') return 'agent';
  if (openInference === 'LLM' || openInference === 'EMBEDDING') return 'model';
  if (openInference === 'TOOL') return 'tool';
  const vercel = readText(attributes, 'ai.operationId') ?? span.name;
  if (VERCEL_MODEL_CALL.test(vercel)) return 'model';
  if (vercel === 'ai.toolCall') return 'tool';
  if (operation === null && MODEL_SPAN_NAME.test(span.name)) return 'model';
  if (operation === null && span.name.startsWith('execute_tool')) return 'tool';
  // Pydantic AI before its instrumentation version 3.
  if (operation === null && span.name === 'running tool') return 'tool';
  return 'other';
}

/** Token counts a span reports; null where it reports none (unknown, never 0). */
export interface SpanUsage {
  inputTokens: number | null;
  outputTokens: number | null;
  /** Inside inputTokens (semantic conventions: input tokens include the cached ones). */
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  /** Inside outputTokens. */
  reasoningTokens: number | null;
}

export function readUsage(attributes: Attributes): SpanUsage {
  const first = (...keys: string[]) => {
    for (const key of keys) {
      const count = readCount(attributes, key);
      if (count !== null) return count;
    }
    return null;
  };
  return {
    inputTokens: first(
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.prompt_tokens',
      'ai.usage.inputTokens',
      'ai.usage.promptTokens',
      'llm.token_count.prompt',
    ),
    outputTokens: first(
      'gen_ai.usage.output_tokens',
      'gen_ai.usage.completion_tokens',
      'ai.usage.outputTokens',
      'ai.usage.completionTokens',
      'llm.token_count.completion',
    ),
    cacheReadTokens: first(
      'gen_ai.usage.cache_read.input_tokens',
      'gen_ai.usage.cache_read_input_tokens',
      'gen_ai.usage.input_tokens.cached',
      'ai.usage.cachedInputTokens',
      'llm.token_count.prompt_details.cache_read',
    ),
    cacheWriteTokens: first(
      'gen_ai.usage.cache_creation.input_tokens',
      'gen_ai.usage.cache_creation_input_tokens',
      'gen_ai.usage.input_tokens.cache_write',
      'llm.token_count.prompt_details.cache_write',
    ),
    reasoningTokens: first(
      'gen_ai.usage.reasoning.output_tokens',
      'gen_ai.usage.reasoning_tokens',
      'gen_ai.usage.output_tokens.reasoning',
      'ai.usage.reasoningTokens',
      'llm.token_count.completion_details.reasoning',
    ),
  };
}

function reportsUsage(usage: SpanUsage): boolean {
  return usage.inputTokens !== null || usage.outputTokens !== null;
}

/** The model that answered (the response's), else the one asked for. */
export function readModel(attributes: Attributes): string | null {
  const model =
    readText(attributes, 'gen_ai.response.model') ??
    readText(attributes, 'gen_ai.request.model') ??
    readText(attributes, 'ai.response.model') ??
    readText(attributes, 'ai.model.id') ??
    readText(attributes, 'llm.model_name');
  return model === null ? null : toStorableText(model, MAX_MODEL_CHARS) || null;
}

/** The provider (gen_ai.provider.name, else the older gen_ai.system), as a node stores it (1 to 200 characters). */
export function readProvider(attributes: Attributes): string | null {
  const provider =
    readText(attributes, 'gen_ai.provider.name') ??
    readText(attributes, 'gen_ai.system') ??
    readText(attributes, 'ai.model.provider') ??
    readText(attributes, 'llm.provider') ??
    readText(attributes, 'llm.system');
  return provider === null ? null : toStorableText(provider, MAX_PROVIDER_CHARS) || null;
}

/** The agent a task span names: its name, else its id, else the service that sent it. */
export function readAgentName(span: Pick<OtlpSpan, 'name' | 'attributes' | 'resource'>): string | null {
  const { attributes } = span;
  const fromSpanName = span.name.startsWith('invoke_agent') ? span.name.slice('invoke_agent'.length) : '';
  const isOpenInferenceAgent = readText(attributes, 'openinference.span.kind')?.toUpperCase() === 'AGENT';
  const candidates = [
    readText(attributes, 'gen_ai.agent.name'),
    readText(attributes, 'gen_ai.agent.id'),
    readText(attributes, 'agent.name'),
    // Pydantic AI before its instrumentation version 3.
    readText(attributes, 'agent_name'),
    fromSpanName,
    readText(attributes, 'ai.telemetry.functionId'),
    isOpenInferenceAgent ? span.name : null,
    readText(span.resource, 'service.name'),
  ];
  for (const candidate of candidates) {
    const name = candidate?.trim();
    if (name) return toStorableText(name, MAX_AGENT_NAME_CHARS).trim();
  }
  return null;
}

/** Whether the span failed, and why: its status, else `error.type`; an exception event gives the text. */
export function readSpanError(span: Pick<OtlpSpan, 'attributes' | 'events' | 'status'>): string | null {
  const errorType = readText(span.attributes, 'error.type');
  if (span.status.code !== 2 && errorType === null) return null;
  const exception = span.events.find((event) => event.name === 'exception');
  const exceptionText = exception
    ? [readText(exception.attributes, 'exception.type'), readText(exception.attributes, 'exception.message')]
        .filter((part): part is string => part !== null)
        .join(': ')
    : '';
  const text = span.status.message || exceptionText || errorType || 'error';
  return toStorableText(text, MAX_ERROR_CHARS) || 'error';
}

/** The request's text: the last user message (the command), in whichever convention the span used. */
export function readInputText(span: Pick<OtlpSpan, 'attributes' | 'events'>): string | null {
  const { attributes, events } = span;
  return (
    textOfMessages(attributes['gen_ai.input.messages'], 'user') ??
    textOfEvents(events, 'gen_ai.user.message', 'user') ??
    textOfMessages(attributes['gen_ai.prompt'], 'user') ??
    textOfEvents(events, 'gen_ai.content.prompt', 'user', 'gen_ai.prompt') ??
    textOfIndexedMessages(attributes, 'gen_ai.prompt', 'user') ??
    textOfMessages(attributes['ai.prompt'], 'user') ??
    textOfMessages(attributes['ai.prompt.messages'], 'user') ??
    textOfIndexedMessages(attributes, 'llm.input_messages', 'user') ??
    textOfMessages(attributes['input.value'], 'user', true)
  );
}

/** The answer's text: the last assistant output, in whichever convention the span used. */
export function readOutputText(span: Pick<OtlpSpan, 'attributes' | 'events'>): string | null {
  const { attributes, events } = span;
  return (
    textOfMessages(attributes['gen_ai.output.messages'], 'assistant') ??
    textOfEvents(events, 'gen_ai.choice', 'assistant') ??
    textOfMessages(attributes['gen_ai.completion'], 'assistant') ??
    textOfEvents(events, 'gen_ai.content.completion', 'assistant', 'gen_ai.completion') ??
    textOfIndexedMessages(attributes, 'gen_ai.completion', 'assistant') ??
    textOfMessages(attributes['ai.response.text'], 'assistant') ??
    textOfMessages(attributes['ai.response.object'], null, true) ??
    textOfIndexedMessages(attributes, 'llm.output_messages', 'assistant') ??
    textOfMessages(attributes['output.value'], 'assistant', true) ??
    // Pydantic AI's agent run span: the run's output (text, or its structured output as JSON).
    textOfMessages(attributes.final_result, null, true)
  );
}

/** A score reported in a span (`gen_ai.evaluation.result`): shown beside the judge's, source `otel`. */
export interface SpanEvaluation {
  spanId: string;
  /** The event's position among its span's events (a span sent twice gives the same key). */
  eventIndex: number;
  name: string;
  value: number | null;
  label: string | null;
  explanation: string | null;
  responseId: string | null;
  evaluatedAt: string;
}

export function readEvaluations(span: Pick<OtlpSpan, 'spanId' | 'events'>): SpanEvaluation[] {
  const evaluations: SpanEvaluation[] = [];
  span.events.forEach((event, eventIndex) => {
    if (event.name !== 'gen_ai.evaluation.result') return;
    const { attributes } = event;
    const evaluationName = readText(attributes, 'gen_ai.evaluation.name')?.trim();
    const name = evaluationName ? toStorableText(evaluationName, 200) : null;
    const raw = attributes['gen_ai.evaluation.score.value'];
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : null;
    const label = readText(attributes, 'gen_ai.evaluation.score.label');
    const finite = value !== null && Number.isFinite(value) ? value : null;
    // An evaluation names what it measured and gives a value or a label (the convention requires both).
    if (!name || (finite === null && label === null)) return;
    evaluations.push({
      spanId: span.spanId,
      eventIndex,
      name,
      value: finite,
      label,
      explanation: readText(attributes, 'gen_ai.evaluation.explanation'),
      responseId: readText(attributes, 'gen_ai.response.id'),
      evaluatedAt: toIso(event.timeUnixNano),
    });
  });
  return evaluations;
}

/** One step of a task, as its node. */
export interface MappedNode {
  spanId: string;
  name: string;
  kind: StepKind;
  startedAt: string;
  durationMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  cacheReadTokens: number | null;
  reasoningTokens: number | null;
  model: string | null;
  provider: string | null;
  /** USD, from the price table; null when the call's tokens or its model's price are unknown. */
  estimatedCost: number | null;
  success: boolean;
  error: string | null;
}

/** A task made of an agent span and the steps below it. */
export interface MappedTask {
  agentSpanId: string;
  agentName: string;
  command: string;
  status: 'completed' | 'failed';
  result: string | null;
  error: string | null;
  startedAt: string;
  completedAt: string;
  durationMs: number;
  conversationId: string | null;
  /** The end user the spans name (`user.id`, `enduser.id`), if any. */
  endUserId: string | null;
  model: string | null;
  /** Sums over the task's model calls; null when any call did not report the figure. */
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  estimatedCost: number | null;
  /** The steps in time order. */
  nodes: MappedNode[];
  evaluations: SpanEvaluation[];
}

export interface TraceMapping {
  tasks: MappedTask[];
  /** Spans not (yet) under an agent span: kept until their agent span arrives. */
  pendingSpanIds: string[];
}

/**
 * Maps the spans of one trace received so far to tasks: each agent span with the steps below it (down
 * to the next agent span, which is a node of its parent and a task of its own). A span whose chain of
 * parents is broken (a parent not received yet) waits; so does a Vercel AI SDK call until it is known
 * whether an agent span is above it.
 */
export function mapTrace(spans: readonly MappableSpan[]): TraceMapping {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const classes = new Map(spans.map((span) => [span.spanId, classifySpan(span)]));
  const agentOf = new Map<string, string | null>();

  /** The nearest agent span above `span` (excluded); null when none is; undefined when not known yet. */
  const findAgentAbove = (span: MappableSpan): string | null | undefined => {
    const seen = new Set<string>([span.spanId]);
    let parentId = span.parentSpanId;
    while (parentId !== null) {
      if (seen.has(parentId)) return undefined;
      seen.add(parentId);
      const parent = byId.get(parentId);
      if (!parent) return undefined;
      const parentClass = classes.get(parentId);
      if (parentClass === 'agent') return parentId;
      if (parentClass === 'agent_candidate') {
        const above = findAgentAbove(parent);
        if (above === undefined) return undefined;
        if (above === null) return parentId;
        return above;
      }
      parentId = parent.parentSpanId;
    }
    return null;
  };

  const isTask = (span: MappableSpan): boolean | undefined => {
    const spanClass = classes.get(span.spanId);
    if (spanClass === 'agent') return true;
    if (spanClass === 'step') return false;
    const above = findAgentAbove(span);
    return above === undefined ? undefined : above === null;
  };

  const agents: MappableSpan[] = [];
  const pending: string[] = [];
  const members = new Map<string, MappableSpan[]>();
  for (const span of spans) {
    const task = isTask(span);
    if (task) agents.push(span);
    const above = findAgentAbove(span);
    agentOf.set(span.spanId, above ?? null);
    if (above === undefined || above === null) {
      if (!task) pending.push(span.spanId);
      continue;
    }
    const list = members.get(above) ?? [];
    list.push(span);
    members.set(above, list);
  }

  const tasks = agents.map((agent) => {
    const steps = [...(members.get(agent.spanId) ?? [])].sort(compareSpans);
    const nestedAgents = new Set(steps.filter((step) => isTask(step)).map((step) => step.spanId));
    return buildTask(agent, steps, nestedAgents, byId);
  });
  return { tasks, pendingSpanIds: pending };
}

function buildTask(
  agent: MappableSpan,
  steps: readonly MappableSpan[],
  nestedAgents: ReadonlySet<string>,
  byId: ReadonlyMap<string, MappableSpan>,
): MappedTask {
  const nodes = steps.map(toMappedNode);
  const usage = sumModelCalls(agent, steps, nestedAgents, byId);
  const firstModelCall = steps.find(
    (step) => !nestedAgents.has(step.spanId) && readStepKind(step) === 'model',
  );
  const modelCalls = steps.filter((step) => !nestedAgents.has(step.spanId) && readStepKind(step) === 'model');
  const lastAnswer = [...modelCalls].reverse().find((step) => readOutputText(step) !== null);
  const input =
    readInputText(agent) ??
    (firstModelCall ? readInputText(firstModelCall) : null) ??
    (agent.name.trim() || 'invoke_agent');
  const error = readSpanError(agent);
  const output = readOutputText(agent) ?? (lastAnswer ? readOutputText(lastAnswer) : null);
  const evaluations = [agent, ...steps.filter((step) => !nestedAgents.has(step.spanId))].flatMap(
    readEvaluations,
  );
  return {
    agentSpanId: agent.spanId,
    agentName: readAgentName(agent) ?? agent.spanId,
    command: toStorableText(input, MAX_COMMAND_CHARS) || agent.spanId,
    status: error === null ? 'completed' : 'failed',
    result: error === null ? toStorableText(output ?? '', MAX_RESULT_CHARS) : null,
    error,
    startedAt: toIso(agent.startTimeUnixNano),
    completedAt: toIso(agent.endTimeUnixNano),
    durationMs: measureMs(agent),
    conversationId:
      readText(agent.attributes, 'gen_ai.conversation.id') ?? readText(agent.attributes, 'session.id'),
    endUserId: readText(agent.attributes, 'user.id') ?? readText(agent.attributes, 'enduser.id'),
    model: readModel(agent.attributes) ?? mostFrequentModel(modelCalls),
    ...usage,
    nodes,
    evaluations,
  };
}

/**
 * The task's tokens and cost: the sums over the spans that report usage or are model calls, counting
 * only those with no such span below them (an agent span's or an outer call's usage repeats its calls').
 * A sum is known only when every call that did not fail reports the figure (and one does); a cost only
 * when every such call's model has a price.
 */
function sumModelCalls(
  agent: MappableSpan,
  steps: readonly MappableSpan[],
  nestedAgents: ReadonlySet<string>,
  byId: ReadonlyMap<string, MappableSpan>,
): Pick<MappedTask, 'promptTokens' | 'completionTokens' | 'totalTokens' | 'estimatedCost'> {
  const metered = [agent, ...steps].filter(
    (span) =>
      !nestedAgents.has(span.spanId) &&
      (reportsUsage(readUsage(span.attributes)) || (span !== agent && readStepKind(span) === 'model')),
  );
  const meteredIds = new Set(metered.map((span) => span.spanId));
  const covered = new Set<string>();
  for (const span of metered) {
    if (span === agent) continue;
    let parentId = span.parentSpanId;
    while (parentId !== null) {
      if (meteredIds.has(parentId)) covered.add(parentId);
      if (parentId === agent.spanId) break;
      parentId = byId.get(parentId)?.parentSpanId ?? null;
    }
  }
  const calls = metered
    .filter((span) => !covered.has(span.spanId))
    .map((span) => ({ span, usage: readCallUsage(span), failed: readSpanError(span) !== null }));
  const sum = (pick: (usage: SpanUsage) => number | null): number | null => {
    if (!calls.some((call) => pick(call.usage) !== null)) return null;
    if (!calls.every((call) => pick(call.usage) !== null || call.failed)) return null;
    return calls.reduce((total, call) => total + (pick(call.usage) ?? 0), 0);
  };
  const promptTokens = sum((usage) => usage.inputTokens);
  const completionTokens = sum((usage) => usage.outputTokens);
  const costs = calls
    .filter((call) => reportsUsage(call.usage) || !call.failed)
    .map((call) =>
      priceCall(call.span, call.usage, readModel(call.span.attributes) ?? readModel(agent.attributes)),
    );
  const estimatedCost =
    costs.length > 0 && costs.every((cost) => cost !== null)
      ? costs.reduce((total: number, cost) => total + (cost ?? 0), 0)
      : null;
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens !== null && completionTokens !== null ? promptTokens + completionTokens : null,
    estimatedCost: estimatedCost === null ? null : roundUsd(estimatedCost),
  };
}

function priceCall(_span: MappableSpan, usage: SpanUsage, model: string | null): number | null {
  if (model === null || usage.inputTokens === null || usage.outputTokens === null) return null;
  return estimateCost(model, usage.inputTokens, usage.outputTokens, {
    cachedPromptTokens: usage.cacheReadTokens ?? undefined,
    cacheWriteTokens: usage.cacheWriteTokens ?? undefined,
    reasoningTokens: usage.reasoningTokens ?? undefined,
  });
}

/** A span's usage; an embeddings call that reports its input has no output tokens (0, not unknown). */
function readCallUsage(span: MappableSpan): SpanUsage {
  const usage = readUsage(span.attributes);
  const embeddings =
    readText(span.attributes, 'gen_ai.operation.name') === 'embeddings' ||
    readText(span.attributes, 'openinference.span.kind')?.toUpperCase() === 'EMBEDDING';
  return embeddings && usage.inputTokens !== null && usage.outputTokens === null
    ? { ...usage, outputTokens: 0 }
    : usage;
}

function toMappedNode(span: MappableSpan): MappedNode {
  const usage = readCallUsage(span);
  const model = readModel(span.attributes);
  const error = readSpanError(span);
  return {
    spanId: span.spanId,
    name: toStorableText(span.name.trim(), MAX_NODE_NAME_CHARS) || 'span',
    kind: readStepKind(span),
    startedAt: toIso(span.startTimeUnixNano),
    durationMs: measureMs(span),
    promptTokens: usage.inputTokens,
    completionTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    reasoningTokens: usage.reasoningTokens,
    model,
    provider: readProvider(span.attributes),
    estimatedCost: priceCall(span, usage, model),
    success: error === null,
    error,
  };
}

/** Half of a surrogate pair with no other half (`u` mode reads a whole pair as one code point). */
const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * Text as PostgreSQL stores it, at most `max` UTF-16 units: a message parsed out of JSON may hold U+0000
 * (written `\\u0000` in the attribute), which text columns refuse, or half an emoji (`\\ud83d`, a value
 * an SDK cut short), which jsonb refuses: that half becomes U+FFFD.
 */
function toStorableText(text: string, max: number): string {
  return cutText(text.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD'), max);
}

/** At most `max` UTF-16 units, never ending inside a surrogate pair (its first half alone is not text). */
function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

function mostFrequentModel(calls: readonly MappableSpan[]): string | null {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const model = readModel(call.attributes);
    if (model !== null) counts.set(model, (counts.get(model) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [model, count] of counts) if (best === null || count > (counts.get(best) ?? 0)) best = model;
  return best;
}

/** Time order: start, then end, then span id (a stable order for spans that started together). */
function compareSpans(a: MappableSpan, b: MappableSpan): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  if (a.endTimeUnixNano !== b.endTimeUnixNano) return a.endTimeUnixNano < b.endTimeUnixNano ? -1 : 1;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

function measureMs(span: Pick<OtlpSpan, 'startTimeUnixNano' | 'endTimeUnixNano'>): number {
  const ms = Number((span.endTimeUnixNano - span.startTimeUnixNano) / 1_000_000n);
  return Math.min(MAX_DURATION_MS, Math.max(0, ms));
}

function toIso(unixNano: bigint): string {
  return new Date(Number(unixNano / 1_000_000n)).toISOString();
}

/** NUMERIC(10,6): USD to the millionth. */
function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * The id of the task an agent span becomes: a UUID (RFC 9562 version 5) of the project, trace and span,
 * so that every export of the span, in any process, names the same task.
 */
export function deriveTaskId(projectId: string, traceId: string, spanId: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(projectId.replaceAll('-', ''), 'hex'))
    .update(`otel:${traceId}:${spanId}`, 'utf8')
    .digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The attribute as text (numbers and booleans written out), or null when absent or empty. */
export function readText(attributes: Attributes, key: string): string | null {
  const value: AttributeValue | undefined = attributes[key];
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** A token count: a whole number from 0 to MAX_TOKENS (int64 may come as text); anything else is unknown. */
function readCount(attributes: Attributes, key: string): number | null {
  const value = attributes[key];
  const count =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  return Number.isInteger(count) && count >= 0 && count <= MAX_TOKENS ? count : null;
}

/**
 * The text of the last message of `role` (else of the last message with text) in a messages value.
 * `raw`: a text value holding no message (OpenInference's input.value as JSON) is the text itself.
 */
function textOfMessages(
  value: AttributeValue | undefined,
  role: 'user' | 'assistant' | null,
  raw = false,
): string | null {
  if (value === undefined || value === null) return null;
  const plain = typeof value === 'string' && value.trim() !== '' ? value : null;
  const parsed = typeof value === 'string' ? parseJson(value) : value;
  if (parsed === undefined) return plain;
  const texts = (toMessageList(parsed) ?? []).filter(
    (message): message is { role: string | null; text: string } =>
      message.text !== null && message.text.trim() !== '',
  );
  const ofRole = role === null ? [] : texts.filter((message) => message.role === role);
  const chosen = ofRole.at(-1) ?? texts.at(-1);
  return chosen?.text ?? (raw ? plain : null);
}

interface PlainMessage {
  role: string | null;
  text: string | null;
}

function toMessageList(value: unknown): PlainMessage[] | null {
  if (typeof value === 'string') return [{ role: null, text: value }];
  if (Array.isArray(value)) return value.map(toMessage);
  if (isRecord(value)) {
    // Vercel's ai.prompt: {"system", "prompt"} or {"system", "messages"}.
    if (Array.isArray(value.messages)) return value.messages.map(toMessage);
    if (typeof value.prompt === 'string') return [{ role: 'user', text: value.prompt }];
    if (Array.isArray(value.choices)) return value.choices.map(toMessage);
    return [toMessage(value)];
  }
  return null;
}

function toMessage(value: unknown): PlainMessage {
  if (typeof value === 'string') return { role: null, text: value };
  if (!isRecord(value)) return { role: null, text: null };
  // gen_ai.choice events carry {"message": {...}}; OpenInference {"message.role", "message.content"}.
  if (isRecord(value.message)) {
    const inner = toMessage(value.message);
    return { role: inner.role ?? 'assistant', text: inner.text };
  }
  const role = typeof value.role === 'string' ? value.role : null;
  const text = textOfContent(value.parts ?? value.content ?? value.text);
  return { role, text };
}

function textOfContent(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts = content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (!isRecord(part)) return null;
        if (part.type !== undefined && part.type !== 'text') return null;
        return typeof part.content === 'string'
          ? part.content
          : typeof part.text === 'string'
            ? part.text
            : null;
      })
      .filter((text): text is string => text !== null);
    return texts.length > 0 ? texts.join('\n') : null;
  }
  if (isRecord(content)) return textOfContent(content.content ?? content.text);
  return null;
}

/** The text of the last event of this name (older conventions put messages in span events). */
function textOfEvents(
  events: readonly OtlpSpanEvent[],
  eventName: string,
  role: 'user' | 'assistant',
  attributeKey?: string,
): string | null {
  for (const event of [...events].reverse()) {
    if (event.name !== eventName) continue;
    const { attributes } = event;
    const keys = attributeKey ? [attributeKey] : ['gen_ai.event.content', 'content', 'message', 'body'];
    for (const key of keys) {
      const text = textOfMessages(attributes[key], role);
      if (text !== null) return text;
    }
  }
  return null;
}

/**
 * Indexed messages as OpenLLMetry (`gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`) and OpenInference
 * (`llm.input_messages.0.message.role`, `...message.content`) flatten them.
 */
function textOfIndexedMessages(
  attributes: Attributes,
  prefix: string,
  role: 'user' | 'assistant',
): string | null {
  const messages: { index: number; role: string | null; text: string }[] = [];
  for (let index = 0; index < 1000; index++) {
    const base = `${prefix}.${index}`;
    const text = readText(attributes, `${base}.content`) ?? readText(attributes, `${base}.message.content`);
    const messageRole = readText(attributes, `${base}.role`) ?? readText(attributes, `${base}.message.role`);
    if (text === null && messageRole === null) break;
    if (text !== null && text.trim() !== '') messages.push({ index, role: messageRole, text });
  }
  const chosen = messages.filter((message) => message.role === role).at(-1) ?? messages.at(-1);
  return chosen?.text ?? null;
}

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
