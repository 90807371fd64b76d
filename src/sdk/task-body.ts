/** Turns what a task recorded in the host's process into the body Merit's batch endpoint takes. */
import type { components } from './openapi.generated.js';

export type FinishedTaskBody = components['schemas']['FinishedTask'];
export type NodeInputBody = components['schemas']['NodeInput'];

/** The API's limits (src/tasks/task-schemas.ts): longer texts are cut so one long answer cannot lose the task. */
export const LIMITS = {
  command: 20_000,
  result: 1_000_000,
  error: 10_000,
  nodeName: 100,
  nodes: 500,
  userId: 200,
  model: 100,
  provider: 200,
} as const;

/** Token counts and cost of one or more model calls; a figure never reported stays undefined (unknown). */
export interface Usage {
  model?: string | undefined;
  /** Who served the model (`openai`, `anthropic`...); a step keeps the last one reported. */
  provider?: string | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  /** Defaults to input + output when both are known. */
  totalTokens?: number | undefined;
  /** Input tokens read from the provider's cache (inside inputTokens). */
  cacheReadTokens?: number | undefined;
  /** Reasoning tokens (inside outputTokens). */
  reasoningTokens?: number | undefined;
  /** USD; Merit estimates it from its price table when no call reported one. */
  costUsd?: number | undefined;
}

export interface UsageTotals {
  model: string | undefined;
  provider: string | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  totalTokens: number | undefined;
  cacheReadTokens: number | undefined;
  reasoningTokens: number | undefined;
  costUsd: number | undefined;
}

export const NO_USAGE: UsageTotals = Object.freeze({
  model: undefined,
  provider: undefined,
  inputTokens: undefined,
  outputTokens: undefined,
  totalTokens: undefined,
  cacheReadTokens: undefined,
  reasoningTokens: undefined,
  costUsd: undefined,
});

/** Adds one report of usage to the totals so far (a figure unknown in both stays unknown). */
export function addUsage(totals: UsageTotals, usage: Usage): UsageTotals {
  const total =
    usage.totalTokens ??
    (usage.inputTokens !== undefined && usage.outputTokens !== undefined
      ? usage.inputTokens + usage.outputTokens
      : undefined);
  return {
    model: usage.model ?? totals.model,
    provider: usage.provider ?? totals.provider,
    inputTokens: addKnown(totals.inputTokens, checkCount(usage.inputTokens, 'inputTokens')),
    outputTokens: addKnown(totals.outputTokens, checkCount(usage.outputTokens, 'outputTokens')),
    totalTokens: addKnown(totals.totalTokens, checkCount(total, 'totalTokens')),
    cacheReadTokens: addKnown(totals.cacheReadTokens, checkCount(usage.cacheReadTokens, 'cacheReadTokens')),
    reasoningTokens: addKnown(totals.reasoningTokens, checkCount(usage.reasoningTokens, 'reasoningTokens')),
    costUsd: addKnown(totals.costUsd, checkCost(usage.costUsd)),
  };
}

function addKnown(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a + b;
}

function checkCount(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}

function checkCost(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) throw new TypeError('costUsd must be a non-negative number');
  return value;
}

export interface RecordedNode {
  name: string;
  startedAt: Date;
  durationMs: number;
  error: string | undefined;
  usage: UsageTotals;
}

export interface RecordedTask {
  id: string;
  agentId: string;
  command: string;
  category: string | undefined;
  userId: string | undefined;
  startedAt: Date;
  completedAt: Date;
  /**
   * Measured on the monotonic clock, as its steps are (the wall clock's whole milliseconds could make a
   * task shorter than its own step by one).
   */
  durationMs: number;
  /** Set when the task succeeded. */
  result: string | undefined;
  /** Set when the task failed. */
  error: string | undefined;
  usage: UsageTotals;
  nodes: readonly RecordedNode[];
}

/** The FinishedTask body of a recorded task: only known figures are sent, texts cut to the API's limits. */
export function buildFinishedTask(task: RecordedTask): FinishedTaskBody {
  const failed = task.error !== undefined;
  const body: FinishedTaskBody = {
    id: task.id,
    agent_id: task.agentId,
    command: cut(task.command, LIMITS.command),
    status: failed ? 'failed' : 'completed',
    started_at: task.startedAt.toISOString(),
    completed_at: task.completedAt.toISOString(),
    duration_ms: Math.max(0, task.durationMs),
  };
  if (failed) body.error = cut(task.error ?? '', LIMITS.error) || 'failed';
  else body.result = cut(task.result ?? '', LIMITS.result);
  if (task.category !== undefined) body.objective_category = task.category;
  if (task.userId !== undefined) body.user_id = cut(task.userId, LIMITS.userId);
  Object.assign(body, usageFields(task.usage));
  if (task.usage.costUsd !== undefined) body.estimated_cost = task.usage.costUsd;
  if (task.usage.model !== undefined) body.model = cut(task.usage.model, LIMITS.model);
  if (task.nodes.length > 0) body.nodes = task.nodes.slice(0, LIMITS.nodes).map(buildNodeInput);
  return body;
}

function buildNodeInput(node: RecordedNode): NodeInputBody {
  const body: NodeInputBody = {
    node_name: cut(node.name, LIMITS.nodeName) || 'step',
    duration_ms: node.durationMs,
    started_at: node.startedAt.toISOString(),
    success: node.error === undefined,
    ...usageFields(node.usage),
  };
  const { usage } = node;
  // An empty name is unknown (the API refuses it, which would set the whole task aside).
  if (usage.model) body.model = cut(usage.model, LIMITS.model);
  if (usage.provider) body.provider = cut(usage.provider, LIMITS.provider);
  if (usage.cacheReadTokens !== undefined) body.cache_read_tokens = usage.cacheReadTokens;
  if (usage.reasoningTokens !== undefined) body.reasoning_tokens = usage.reasoningTokens;
  if (usage.costUsd !== undefined) body.estimated_cost = usage.costUsd;
  if (node.error !== undefined) body.error = cut(node.error, LIMITS.error);
  return body;
}

function usageFields(
  usage: UsageTotals,
): Pick<NodeInputBody, 'prompt_tokens' | 'completion_tokens' | 'total_tokens'> {
  const fields: Pick<NodeInputBody, 'prompt_tokens' | 'completion_tokens' | 'total_tokens'> = {};
  if (usage.inputTokens !== undefined) fields.prompt_tokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) fields.completion_tokens = usage.outputTokens;
  if (usage.totalTokens !== undefined) {
    // The API refuses a total below input + output; a host that reported only some totals gets the sum.
    const sum = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
    fields.total_tokens = Math.max(usage.totalTokens, sum);
  }
  return fields;
}

/** Cuts a text to at most `max` characters without splitting a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

/** The text Merit stores as a task's result for what the host's function returned. */
export function describeResult(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The text Merit stores as a failure's error for whatever the host's function threw. */
export function describeError(error: unknown): string {
  if (error instanceof Error)
    return error.message.trim() === '' ? error.name : `${error.name}: ${error.message}`;
  return String(error);
}
