import type { FailureReason, NewNode, NodeRow, ScoreRow, TaskRow } from '../db/database.js';
import { countChars, PREVIEW_CHARS } from '../lib/paging.js';
import { estimateCost } from '../llm/pricing.js';
import type { TaskContribution } from '../stats/stats.js';
import { MAX_DURATION_MS, type NodeInput } from './task-schemas.js';
import type { EvaluationStatus, FinishedNodeRecord, TaskPreviewRow } from './tasks.queries.js';

/**
 * A task as the API shows it. List endpoints and live events carry a preview: `command`, `result`,
 * `error` and the score's `user_feedback` cut to their first PREVIEW_CHARS characters, `truncated` true
 * when any was cut; the one-task endpoint carries them whole. The `*_length` fields give full lengths.
 */
export interface TaskView {
  id: string;
  user_id: string;
  agent_id: string;
  nickname: string | null;
  command: string;
  command_length: number;
  objective_category: string;
  category_confidence: number | null;
  category_source: string;
  status: TaskRow['status'];
  current_node: string | null;
  result: string | null;
  result_length: number | null;
  error: string | null;
  error_length: number | null;
  /** Why a failed task failed: `error` (reported by its agent or client) or `timed_out`; null otherwise. */
  failure_reason: FailureReason | null;
  truncated: boolean;
  model: string | null;
  simulated: boolean;
  source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** The conversation the task belongs to (OpenTelemetry's gen_ai.conversation.id); null when unknown. */
  session_id: string | null;
  nodes?: NodeView[];
  score?: ScoreView | null;
  /** Where the automatic evaluation stands (lists and live events; the one-task endpoint adds it). */
  evaluation_status?: EvaluationStatus | null;
}

export interface NodeView {
  id: string;
  node_name: string;
  sequence: number;
  status: string;
  duration_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** Null when the step reported no token counts; 0 is a reported zero. */
  total_tokens: number | null;
  success: boolean;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  model: string | null;
  provider: string | null;
  cache_read_tokens: number | null;
  reasoning_tokens: number | null;
  estimated_cost: number | null;
}

export interface ScoreView {
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  efficiency_score: number | null;
  overall_score: number | null;
  peer_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  user_feedback_length: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  reward_points: number;
  score_sources: Record<string, unknown>;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);
const lengthOf = (text: string | null): number | null => (text === null ? null : countChars(text));

/** A whole task (texts in full), for the one-task endpoint and the write endpoints. */
export function toTaskView(row: TaskRow, nickname: string | null): TaskView {
  return {
    id: row.id,
    user_id: row.user_id,
    agent_id: row.agent_id,
    nickname,
    command: row.command,
    command_length: countChars(row.command),
    objective_category: row.objective_category,
    category_confidence: row.category_confidence,
    category_source: row.category_source,
    status: row.status,
    current_node: row.current_node,
    result: row.result,
    result_length: lengthOf(row.result),
    error: row.error,
    error_length: lengthOf(row.error),
    failure_reason: row.status === 'failed' ? (row.failure_reason ?? 'error') : null,
    truncated: false,
    model: row.model,
    simulated: row.simulated,
    source: row.source,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    total_tokens: row.total_tokens,
    estimated_cost: row.estimated_cost,
    duration_ms: row.duration_ms,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    session_id: row.session_id,
  };
}

export function toNodeView(row: NodeRow): NodeView {
  return {
    id: row.id,
    node_name: row.node_name,
    sequence: row.sequence,
    status: row.status,
    duration_ms: row.duration_ms,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    total_tokens: row.total_tokens,
    success: row.success,
    error: row.error,
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    model: row.model,
    provider: row.provider,
    cache_read_tokens: row.cache_read_tokens,
    reasoning_tokens: row.reasoning_tokens,
    estimated_cost: row.estimated_cost,
  };
}

export function toScoreView(row: ScoreRow): ScoreView {
  return {
    accuracy_score: row.accuracy_score,
    relevance_score: row.relevance_score,
    completeness_score: row.completeness_score,
    efficiency_score: row.efficiency_score,
    overall_score: row.overall_score,
    peer_score: row.peer_score,
    user_rating: row.user_rating,
    user_feedback: row.user_feedback,
    user_feedback_length: lengthOf(row.user_feedback),
    total_tokens: row.total_tokens,
    estimated_cost: row.estimated_cost,
    reward_points: row.reward_points,
    score_sources: row.score_sources,
  };
}

/** A list item: the task with its texts cut in SQL (`TaskPreviewRow`) and its score, without nodes. */
export function toTaskPreviewView(row: TaskPreviewRow): TaskView {
  // left() keeps the first PREVIEW_CHARS characters, so a text was cut exactly when it is longer.
  const cut = (length: number | null) => length !== null && length > PREVIEW_CHARS;
  return {
    id: row.id,
    user_id: row.user_id,
    agent_id: row.agent_id,
    nickname: row.nickname,
    command: row.command,
    command_length: row.command_length,
    objective_category: row.objective_category,
    category_confidence: row.category_confidence,
    category_source: row.category_source,
    status: row.status,
    current_node: row.current_node,
    result: row.result,
    result_length: row.result_length,
    error: row.error,
    error_length: row.error_length,
    failure_reason: row.failure_reason,
    truncated:
      cut(row.command_length) ||
      cut(row.result_length) ||
      cut(row.error_length) ||
      cut(row.user_feedback_length),
    model: row.model,
    simulated: row.simulated,
    source: row.source,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    total_tokens: row.total_tokens,
    estimated_cost: row.estimated_cost,
    duration_ms: row.duration_ms,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    session_id: row.session_id,
    score: row.has_score
      ? {
          accuracy_score: row.accuracy_score,
          relevance_score: row.relevance_score,
          completeness_score: row.completeness_score,
          efficiency_score: row.efficiency_score,
          overall_score: row.overall_score,
          peer_score: row.peer_score,
          user_rating: row.user_rating,
          user_feedback: row.user_feedback,
          user_feedback_length: row.user_feedback_length,
          total_tokens: row.score_total_tokens,
          estimated_cost: row.score_estimated_cost,
          reward_points: row.reward_points ?? 0,
          score_sources: row.score_sources ?? {},
        }
      : null,
    evaluation_status: row.evaluation_status,
  };
}

export interface UsageFigures {
  model?: string | undefined;
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
  total_tokens?: number | undefined;
  estimated_cost?: number | undefined;
  nodes?: readonly UsageNode[] | undefined;
}

export interface UsageNode {
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
  total_tokens?: number | undefined;
  /** A failed step that reports no figure adds nothing (its call gave no usage); it does not make the sum unknown. */
  success?: boolean | undefined;
}

/**
 * A recorded node as a usage input. A node with parts has its total derived from them (a part it did
 * not report leaves the task's total unknown); one without parts gives its total, null when unreported.
 */
export function toUsageNode(
  row: Pick<NodeRow, 'prompt_tokens' | 'completion_tokens' | 'total_tokens' | 'success'>,
): UsageNode {
  const partsKnown = row.prompt_tokens !== null || row.completion_tokens !== null;
  return {
    prompt_tokens: row.prompt_tokens ?? undefined,
    completion_tokens: row.completion_tokens ?? undefined,
    total_tokens: partsKnown ? undefined : (row.total_tokens ?? undefined),
    success: row.success,
  };
}

/**
 * Resolves a finished task's token and cost figures: totals from the parts (or from the nodes when the
 * task gives none), and the cost from the model price table when the caller gives tokens but no cost.
 * A figure nobody reported stays null (unknown), never 0: a sum over nodes is known only when every
 * successful node gives it (and one does), a total only when both parts are known (or it is given),
 * and a cost only when the total is known and the model has a price.
 */
export function resolveUsage(input: UsageFigures, fallbackModel: string | null) {
  const nodes = input.nodes ?? [];
  const sumNodes = (key: 'prompt_tokens' | 'completion_tokens' | 'total_tokens') =>
    nodes.some((node) => node[key] !== undefined) &&
    nodes.every((node) => node[key] !== undefined || node.success === false)
      ? nodes.reduce((sum, node) => sum + (node[key] ?? 0), 0)
      : undefined;
  const promptTokens = input.prompt_tokens ?? sumNodes('prompt_tokens') ?? null;
  const completionTokens = input.completion_tokens ?? sumNodes('completion_tokens') ?? null;
  const totalTokens =
    input.total_tokens ??
    (promptTokens !== null && completionTokens !== null ? promptTokens + completionTokens : null) ??
    sumNodes('total_tokens') ??
    null;
  const model = input.model ?? fallbackModel;
  let estimatedCost = input.estimated_cost ?? null;
  if (estimatedCost === null && model !== null && totalTokens !== null) {
    // Without the prompt/completion split, price the total as half prompt, half completion.
    const prompt =
      promptTokens ??
      (completionTokens === null ? Math.round(totalTokens / 2) : Math.max(0, totalTokens - completionTokens));
    const completion = completionTokens ?? Math.max(0, totalTokens - prompt);
    estimatedCost = estimateCost(model, prompt, completion);
  }
  return { model, promptTokens, completionTokens, totalTokens, estimatedCost };
}

/** A task's contribution to statistics, from its row and its score row. */
export function describeContribution(
  task: Pick<TaskRow, 'status' | 'total_tokens' | 'estimated_cost' | 'duration_ms' | 'completed_at'>,
  score: Pick<ScoreRow, 'overall_score' | 'user_rating' | 'reward_points' | 'reward'> | null,
): TaskContribution {
  return {
    status: task.status,
    overallScore: score?.overall_score ?? null,
    userRating: score?.user_rating ?? null,
    totalTokens: task.total_tokens,
    estimatedCost: task.estimated_cost,
    durationMs: task.duration_ms,
    rewardPoints: score?.reward_points ?? 0,
    reward: score?.reward ?? null,
    finishedAt: task.completed_at,
  };
}

/**
 * A reported node as its row: the total defaults to prompt + completion (null when it reported neither),
 * the end to start + duration, and the cost to the price table's for its model and tokens (null when any
 * of them is unknown).
 */
export function toNewNode(
  task: Pick<TaskRow, 'id' | 'agent_id'>,
  node: NodeInput,
  sequence: number,
): NewNode {
  const startedAt = node.started_at ? new Date(node.started_at) : null;
  const partsReported = node.prompt_tokens !== undefined || node.completion_tokens !== undefined;
  const totalTokens =
    node.total_tokens ?? (partsReported ? (node.prompt_tokens ?? 0) + (node.completion_tokens ?? 0) : null);
  return {
    ...toNodeCallFields(node),
    task_id: task.id,
    agent_id: task.agent_id,
    node_name: node.node_name,
    sequence,
    status: node.success ? 'completed' : 'failed',
    duration_ms: node.duration_ms ?? null,
    prompt_tokens: node.prompt_tokens ?? null,
    completion_tokens: node.completion_tokens ?? null,
    total_tokens: totalTokens,
    success: node.success,
    error: node.error ?? null,
    started_at: startedAt,
    completed_at:
      startedAt && node.duration_ms !== undefined ? new Date(startedAt.getTime() + node.duration_ms) : null,
  };
}

/** The node's model call: what it reported, its cost estimated from the price table when not given. */
function toNodeCallFields(
  node: NodeInput,
): Pick<NewNode, 'model' | 'provider' | 'cache_read_tokens' | 'reasoning_tokens' | 'estimated_cost'> {
  const model = node.model ?? null;
  const estimatedCost =
    node.estimated_cost ??
    (model !== null && node.prompt_tokens !== undefined && node.completion_tokens !== undefined
      ? estimateCost(model, node.prompt_tokens, node.completion_tokens, {
          cachedPromptTokens: node.cache_read_tokens,
          reasoningTokens: node.reasoning_tokens,
        })
      : null);
  return {
    model,
    provider: node.provider ?? null,
    cache_read_tokens: node.cache_read_tokens ?? null,
    reasoning_tokens: node.reasoning_tokens ?? null,
    estimated_cost: estimatedCost,
  };
}

/** A node row as the finished-task statement takes it (JSON: dates as ISO text). */
export function toFinishedNodeRecord(node: NewNode): FinishedNodeRecord {
  const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);
  return {
    task_id: node.task_id,
    agent_id: node.agent_id,
    node_name: node.node_name,
    sequence: node.sequence,
    status: node.status ?? 'completed',
    duration_ms: node.duration_ms ?? null,
    prompt_tokens: node.prompt_tokens ?? null,
    completion_tokens: node.completion_tokens ?? null,
    total_tokens: node.total_tokens ?? null,
    success: node.success ?? true,
    error: node.error ?? null,
    started_at: iso(node.started_at),
    completed_at: iso(node.completed_at),
    model: node.model ?? null,
    provider: node.provider ?? null,
    cache_read_tokens: node.cache_read_tokens ?? null,
    reasoning_tokens: node.reasoning_tokens ?? null,
    estimated_cost: node.estimated_cost ?? null,
  };
}

/** Wall-clock time between two instants, at most the API's cap on durations (a task left for weeks). */
export function measureElapsedMs(from: Date, to: Date): number {
  return Math.min(MAX_DURATION_MS, Math.max(0, to.getTime() - from.getTime()));
}
