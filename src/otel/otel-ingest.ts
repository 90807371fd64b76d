import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ensureExternalAgents } from '../agents/external-agents.js';
import type { AppContext } from '../app-context.js';
import { DEFAULT_USER_ID } from '../config.js';
import type { Database } from '../db/database.js';
import { planEvaluationJobs } from '../evaluation/evaluation.jobs.js';
import type { LiveEvent } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { getCategoryClassifier } from '../routing/classification.service.js';
import { diffContributions } from '../stats/stats.js';
import { applyStatsChanges, type StatsChange } from '../stats/stats.queries.js';
import { type Classification, GENERAL_CATEGORY } from '../tasks/execution-tracker.js';
import { buildFinishedTaskRecord } from '../tasks/finished-task-record.js';
import { FinishedTaskWriter } from '../tasks/finished-task-writer.js';
import { ProjectCaches } from '../tasks/project-caches.js';
import { type EfficiencyReference, readTypicalWork } from '../tasks/scoring.js';
import type { FinishedTaskInput, NodeInput } from '../tasks/task-schemas.js';
import { describeContribution, toFinishedNodeRecord, toNewNode } from '../tasks/tasks.js';
import {
  type FinishedNodeRecord,
  type FinishedTaskRecord,
  findScoreForTask,
  findTaskForUpdate,
  insertFinishedTasks,
  insertNodes,
  updateTask,
} from '../tasks/tasks.queries.js';
import {
  deleteTaskNodes,
  type EvaluationScoreRecord,
  findTraceSpans,
  insertEvaluationScores,
  insertSpans,
  linkSpansToTasks,
  lockTraces,
  type SpanLink,
  type SpanRecord,
  type StoredSpanRow,
  setTaskSessions,
  updateScoreUsage,
} from './otel.queries.js';
import type { Attributes, OtlpSpan, SpanIngestResult } from './otlp-span.js';
import {
  classifySpan,
  deriveTaskId,
  findSpanDefect,
  type MappableSpan,
  type MappedNode,
  type MappedTask,
  mapTrace,
  readInputText,
} from './span-mapping.js';

/** The longest conversation id kept as a task's session (tasks.session_id); a longer one is left out. */
const MAX_SESSION_ID_CHARS = 256;

/** Rejection reasons named in one answer at most (the count says how many spans were rejected). */
const MAX_REASONS = 10;
/** A batch of more spans is a transaction of its own (it would hold a shared one too long). */
const SHARED_BATCH_MAX_SPANS = 1000;
/** Shared transactions in flight at once (each holds a connection). */
const SHARED_WRITES_IN_FLIGHT = 2;
const MAX_BATCHES_PER_TRANSACTION = 64;

/** One writer per services container (its queue is this process's). */
const writers = new WeakMap<AppContext, FinishedTaskWriter<QueuedBatch, never>>();

/** Per services container, like the tracker's: categories and efficiency baselines, for this process. */
const projectCaches = new WeakMap<AppContext, ProjectCaches>();

/** What one batch changed, for live events once it is committed. */
interface IngestOutcome {
  /** Tasks created from agent spans (new ids only). */
  created: { id: string; userId: string; agentId: string }[];
  /** Tasks that got late spans (nodes, usage or evaluation results). */
  updated: { id: string; userId: string; agentId: string }[];
}

/**
 * Stores a batch of one project's spans and maps them to tasks, in one transaction: idempotent by
 * (trace id, span id), so a duplicated export changes nothing. An agent span becomes a finished task
 * (scored and queued for evaluation like any reported task) with the steps received so far as its
 * nodes; a step that arrives before its agent span waits in `otel_spans` and is attached when the agent
 * span arrives; one that arrives after rebuilds its task's nodes and usage. Spans that cannot be
 * mapped are rejected with the reason.
 */
export async function ingestSpans(
  ctx: AppContext,
  projectId: string,
  spans: readonly OtlpSpan[],
  options: { userId?: string } = {},
): Promise<SpanIngestResult> {
  const reasons: string[] = [];
  const accepted = new Map<string, OtlpSpan>();
  for (const span of spans) {
    const defect = findSpanDefect(span);
    if (defect !== null) reasons.push(defect);
    // A span twice in one batch is one span (the first copy is kept, like a second export).
    else if (!accepted.has(`${span.traceId}/${span.spanId}`))
      accepted.set(`${span.traceId}/${span.spanId}`, span);
  }
  if (accepted.size > 0) {
    const spans = [...accepted.values()];
    // Classified before the transaction: the classifier may ask an LLM and reads with its own connection.
    const classifications = await classifyCommands(ctx, projectId, spans);
    const batch: QueuedBatch = {
      id: randomUUID(),
      projectId,
      userId: options.userId ?? DEFAULT_USER_ID,
      spans,
      classifications,
    };
    // A large batch is a transaction of its own; small ones arriving together share one.
    if (spans.length > SHARED_BATCH_MAX_SPANS) await writeBatches(ctx, [batch]);
    else await writerOf(ctx).submit([{ record: batch, nodes: [] }]);
  }
  return {
    acceptedSpans: spans.length - reasons.length,
    rejectedSpans: reasons.length,
    errorMessage: summarizeReasons(reasons),
  };
}

/** One ingestSpans call's accepted spans, waiting for a transaction. */
interface QueuedBatch {
  id: string;
  projectId: string;
  /** Whose tasks they are when a span names no end user (the caller's: a key's, local mode's user). */
  userId: string;
  spans: readonly OtlpSpan[];
  classifications: ReadonlyMap<string, Classification>;
}

/**
 * Batches that arrive while a transaction is in flight are written together in the next one (group
 * commit, as the tracker's FinishedTaskWriter does for finished tasks): many exports share the agents'
 * statistics rows' locks and one commit. A shared transaction that fails is retried batch by batch.
 */
function writerOf(ctx: AppContext): FinishedTaskWriter<QueuedBatch, never> {
  let writer = writers.get(ctx);
  if (!writer) {
    writer = new FinishedTaskWriter<QueuedBatch, never>(
      async (entries) => {
        await writeBatches(
          ctx,
          entries.map((entry) => entry.record),
        );
        return new Set(entries.map((entry) => entry.record.id));
      },
      { maxInFlight: SHARED_WRITES_IN_FLIGHT, maxTasksPerStatement: MAX_BATCHES_PER_TRANSACTION },
    );
    writers.set(ctx, writer);
  }
  return writer;
}

/** Writes whole batches in one transaction (each batch entirely in it), then announces what changed. */
async function writeBatches(ctx: AppContext, batches: readonly QueuedBatch[]): Promise<void> {
  // One group per project and default user (of local mode, or the key).
  const groups = new Map<
    string,
    {
      projectId: string;
      userId: string;
      spans: Map<string, OtlpSpan>;
      classifications: Map<string, Classification>;
    }
  >();
  for (const batch of batches) {
    const groupKey = `${batch.projectId}/${batch.userId}`;
    const group = groups.get(groupKey) ?? {
      projectId: batch.projectId,
      userId: batch.userId,
      spans: new Map(),
      classifications: new Map(),
    };
    // The same span in two batches of one transaction is one span (the first copy, like a second export).
    for (const span of batch.spans) {
      const key = `${span.traceId}/${span.spanId}`;
      if (!group.spans.has(key)) group.spans.set(key, span);
    }
    for (const [command, classification] of batch.classifications)
      group.classifications.set(command, classification);
    groups.set(groupKey, group);
  }
  // The changes are announced in the transaction: every process learns of them if and only if it commits.
  const outcomes = await runTransactionWithEvents(ctx.db, ctx.events, async (trx, emit) => {
    await lockTraces(
      trx,
      [...groups.values()].flatMap(({ projectId, spans }) =>
        [...new Set([...spans.values()].map((span) => span.traceId))].map((traceId) => ({
          projectId,
          traceId,
        })),
      ),
    );
    const results: [string, IngestOutcome][] = [];
    for (const group of groups.values()) {
      const outcome = await storeAndMap(ctx, trx, group, [...group.spans.values()]);
      emit(...describeChanges(group.projectId, outcome));
      results.push([group.projectId, outcome]);
    }
    return results;
  });
  for (const [, outcome] of outcomes) logScoresSaved(ctx, outcome);
}

/** Stores one project's spans and maps their traces, in the caller's transaction (which holds their locks). */
async function storeAndMap(
  ctx: AppContext,
  trx: Kysely<Database>,
  group: { projectId: string; userId: string; classifications: ReadonlyMap<string, Classification> },
  batch: readonly OtlpSpan[],
): Promise<IngestOutcome> {
  const { projectId } = group;
  const outcome: IngestOutcome = { created: [], updated: [] };
  const traceIds = [...new Set(batch.map((span) => span.traceId))];
  // Under the traces' locks: what is stored cannot change until this transaction ends.
  const storedRows = await findTraceSpans(trx, projectId, traceIds);
  const stored = new Map(storedRows.map((row) => [`${row.trace_id}/${row.span_id}`, row]));
  const arrived = batch.filter((span) => !stored.has(`${span.traceId}/${span.spanId}`));
  if (arrived.length === 0) return outcome;
  const arrivedKeys = new Set(arrived.map((span) => `${span.traceId}/${span.spanId}`));

  const fresh: { traceId: string; task: MappedTask }[] = [];
  const grown: { traceId: string; task: MappedTask; taskId: string }[] = [];
  const storedByTrace = groupBy(storedRows, (row) => row.trace_id);
  for (const [traceId, spans] of groupBy(arrived, (span) => span.traceId)) {
    const mapping = mapTrace([...spans, ...(storedByTrace.get(traceId) ?? []).map(toMappableSpan)]);
    for (const task of mapping.tasks) {
      const taskId = stored.get(`${traceId}/${task.agentSpanId}`)?.task_id ?? null;
      if (taskId === null) fresh.push({ traceId, task });
      else if (memberSpanIds(task).some((spanId) => arrivedKeys.has(`${traceId}/${spanId}`)))
        grown.push({ traceId, task, taskId });
    }
  }

  const links = new Map(
    [...fresh, ...grown]
      .flatMap(({ traceId, task }) => linksOf(projectId, traceId, task))
      .map((link) => [`${link.trace_id}/${link.span_id}`, link]),
  );
  // New spans are written linked; stored ones (waiting steps, a Vercel call found to be a task) are
  // updated. Before the tasks (their foreign keys are checked at commit): the tasks' statistics rows,
  // shared by every write of their agents, are then locked for the last statements and the commit only.
  await insertSpans(
    trx,
    arrived.map((span) => toSpanRecord(projectId, span, links.get(`${span.traceId}/${span.spanId}`))),
  );
  await linkSpansToTasks(
    trx,
    projectId,
    [...links.entries()].filter(([key]) => !arrivedKeys.has(key)).map(([, link]) => link),
  );
  await insertEvaluationScores(
    trx,
    [...fresh, ...grown].flatMap(({ traceId, task }) => toEvaluationRecords(projectId, traceId, task)),
  );
  // Task rows locked in id order; their statistics changes applied in one statement (STATS_LOCK_ORDER).
  const changes: StatsChange[] = [];
  for (const { task, taskId } of [...grown].sort((a, b) => (a.taskId < b.taskId ? -1 : 1))) {
    const rebuilt = await rebuildTask(trx, projectId, task, taskId);
    if (!rebuilt) continue;
    outcome.updated.push(rebuilt.task);
    if (rebuilt.change) changes.push(rebuilt.change);
  }
  await applyStatsChanges(trx, changes);
  if (fresh.length > 0) outcome.created = await createTasks(ctx, trx, group, fresh);
  return outcome;
}

/** What each span of a task becomes: the agent span the task, its steps (not nested agents) its members. */
function linksOf(projectId: string, traceId: string, task: MappedTask): SpanLink[] {
  const taskId = deriveTaskId(projectId, traceId, task.agentSpanId);
  return [
    {
      trace_id: traceId,
      span_id: task.agentSpanId,
      role: 'agent',
      task_id: taskId,
      conversation_id: task.conversationId,
    },
    // A nested agent span is a node here and keeps the link to its own task.
    ...task.nodes
      .filter((node) => node.kind !== 'agent')
      .map((node) => ({
        trace_id: traceId,
        span_id: node.spanId,
        role: 'step' as const,
        task_id: taskId,
        conversation_id: null,
      })),
  ];
}

/** Records new tasks through the finished-task statement (task, score, nodes, statistics, evaluation jobs). */
async function createTasks(
  ctx: AppContext,
  trx: Kysely<Database>,
  group: { projectId: string; userId: string; classifications: ReadonlyMap<string, Classification> },
  fresh: readonly { traceId: string; task: MappedTask }[],
): Promise<IngestOutcome['created']> {
  const { projectId, classifications } = group;
  // Sorted: two batches registering the same new agents insert them in one order (no deadlock).
  const agentIds = await ensureExternalAgents(
    trx,
    projectId,
    [...new Set(fresh.map(({ task }) => task.agentName))].sort(),
  );
  const caches = cachesOf(ctx);
  const templates = await caches.templates(projectId, trx);
  const references = new Map<string, EfficiencyReference>();
  const now = new Date();
  const records: FinishedTaskRecord[] = [];
  const nodes: FinishedNodeRecord[] = [];
  for (const { traceId, task } of fresh) {
    const agentId = agentIds.get(task.agentName) as string;
    // A command another export supplied while this batch was classified is filed under the default category.
    const classification = classifications.get(task.command) ?? {
      category: GENERAL_CATEGORY,
      confidence: null,
      source: 'default' as const,
    };
    const category = templates.has(classification.category) ? classification.category : GENERAL_CATEGORY;
    let reference = references.get(category);
    if (task.status === 'completed' && reference === undefined) {
      const typical = readTypicalWork(templates.get(category));
      reference = { typical, baseline: await caches.baseline(trx, projectId, category, typical) };
      references.set(category, reference);
    }
    const built = buildFinishedTaskRecord(
      toFinishedTaskInput(projectId, traceId, task, agentId, category),
      {
        scope: { projectId, userId: group.userId },
        classification: { ...classification, category },
        now,
      },
      task.status === 'completed' ? reference : undefined,
      ctx.scoring,
    );
    // The model is set after building: the task's cost is the sum of its calls' (unknown if any call's
    // is), never one estimated from the totals at one model's price.
    const record: FinishedTaskRecord = { ...built, source: 'otel', model: task.model };
    records.push(record);
    nodes.push(
      ...task.nodes.map((node, sequence) =>
        toFinishedNodeRecord(toNewNode(record, toNodeInput(node), sequence)),
      ),
    );
  }
  const jobs = planEvaluationJobs(ctx.config.evaluation)(records);
  const inserted = await insertFinishedTasks(trx, records, nodes, jobs);
  await setTaskSessions(
    trx,
    fresh.flatMap(({ traceId, task }) =>
      task.conversationId !== null && task.conversationId.length <= MAX_SESSION_ID_CHARS
        ? [{ taskId: deriveTaskId(projectId, traceId, task.agentSpanId), sessionId: task.conversationId }]
        : [],
    ),
  );
  const users = new Map(records.map((record) => [record.id, record.user_id]));
  return inserted.map((row) => ({
    id: row.id,
    agentId: row.agent_id,
    userId: users.get(row.id) ?? group.userId,
  }));
}

/**
 * A task that got spans after it was recorded: its nodes again in time order, and its tokens and cost
 * (on the task, its score row and its agent's statistics). Its status, result and scores stay.
 */
async function rebuildTask(
  trx: Kysely<Database>,
  projectId: string,
  task: MappedTask,
  taskId: string,
): Promise<{ task: IngestOutcome['updated'][number]; change: StatsChange | null } | undefined> {
  const before = await findTaskForUpdate(trx, taskId);
  if (!before || before.project_id !== projectId) return undefined;
  const updated = { id: taskId, userId: before.user_id, agentId: before.agent_id };
  await deleteTaskNodes(trx, taskId);
  await insertNodes(
    trx,
    task.nodes.map((node, sequence) => toNewNode(before, toNodeInput(node), sequence)),
  );
  const usageChanged =
    before.prompt_tokens !== task.promptTokens ||
    before.completion_tokens !== task.completionTokens ||
    before.total_tokens !== task.totalTokens ||
    before.estimated_cost !== task.estimatedCost ||
    before.model !== task.model;
  if (!usageChanged) return { task: updated, change: null };
  const after = await updateTask(trx, taskId, {
    model: task.model,
    prompt_tokens: task.promptTokens,
    completion_tokens: task.completionTokens,
    total_tokens: task.totalTokens,
    estimated_cost: task.estimatedCost,
  });
  await updateScoreUsage(trx, taskId, {
    total_tokens: task.totalTokens,
    estimated_cost: task.estimatedCost,
    model: task.model,
  });
  const score = (await findScoreForTask(trx, taskId)) ?? null;
  return {
    task: updated,
    change: {
      projectId,
      userId: before.user_id,
      agentId: before.agent_id,
      category: before.objective_category,
      delta: diffContributions(describeContribution(before, score), describeContribution(after, score)),
    },
  };
}

/**
 * The category of each command a task of this batch may get. A command comes from the agent span, else
 * from the first model call below it, which may have arrived in an earlier export: those traces are read.
 */
async function classifyCommands(
  ctx: AppContext,
  projectId: string,
  batch: readonly OtlpSpan[],
): Promise<Map<string, Classification>> {
  const commands = new Set<string>();
  const incomplete = new Set<string>();
  for (const span of batch) {
    if (classifySpan(span) === 'step') continue;
    const command = readInputText(span);
    if (command === null) incomplete.add(span.traceId);
  }
  const byTrace = groupBy(batch, (span) => span.traceId);
  for (const [traceId, spans] of byTrace) {
    if (!spans.some((span) => classifySpan(span) !== 'step')) continue;
    const stored = incomplete.has(traceId)
      ? (await findTraceSpans(ctx.db, projectId, [traceId])).map(toMappableSpan)
      : [];
    const known = new Set(spans.map((span) => span.spanId));
    const mapping = mapTrace([...spans, ...stored.filter((span) => !known.has(span.spanId))]);
    for (const task of mapping.tasks) commands.add(task.command);
  }
  const classifications = new Map<string, Classification>();
  if (commands.size === 0) return classifications;
  const templates = [...(await cachesOf(ctx).templates(projectId)).values()];
  // One check of the trained model for the batch (a query per command was ingestion's largest cost).
  const classified = await getCategoryClassifier(ctx.db).classifyMany(projectId, [...commands], templates);
  for (const [command, { category, confidence, source }] of classified)
    classifications.set(command, { category, confidence, source });
  return classifications;
}

function toFinishedTaskInput(
  projectId: string,
  traceId: string,
  task: MappedTask,
  agentId: string,
  category: string,
): FinishedTaskInput {
  const known = (value: number | null) => (value === null ? undefined : value);
  // An end-user id longer than the API accepts is not this task's user: the task keeps the default one.
  const userId = task.endUserId !== null && task.endUserId.length <= 200 ? task.endUserId : undefined;
  return {
    id: deriveTaskId(projectId, traceId, task.agentSpanId),
    agent_id: agentId,
    command: task.command,
    objective_category: category,
    status: task.status,
    ...(task.status === 'completed' ? { result: task.result ?? '' } : { error: task.error ?? 'error' }),
    started_at: task.startedAt,
    completed_at: task.completedAt,
    duration_ms: task.durationMs,
    prompt_tokens: known(task.promptTokens),
    completion_tokens: known(task.completionTokens),
    total_tokens: known(task.totalTokens),
    estimated_cost: known(task.estimatedCost),
    user_id: userId,
  };
}

function toNodeInput(node: MappedNode): NodeInput {
  return {
    node_name: node.name,
    success: node.success,
    duration_ms: node.durationMs,
    started_at: node.startedAt,
    ...(node.promptTokens === null ? {} : { prompt_tokens: node.promptTokens }),
    ...(node.completionTokens === null ? {} : { completion_tokens: node.completionTokens }),
    ...(node.cacheReadTokens === null ? {} : { cache_read_tokens: node.cacheReadTokens }),
    ...(node.reasoningTokens === null ? {} : { reasoning_tokens: node.reasoningTokens }),
    ...(node.model === null ? {} : { model: node.model }),
    ...(node.provider === null ? {} : { provider: node.provider }),
    ...(node.estimatedCost === null ? {} : { estimated_cost: node.estimatedCost }),
    ...(node.error === null ? {} : { error: node.error }),
  };
}

function toEvaluationRecords(projectId: string, traceId: string, task: MappedTask): EvaluationScoreRecord[] {
  const taskId = deriveTaskId(projectId, traceId, task.agentSpanId);
  return task.evaluations.map((evaluation) => ({
    project_id: projectId,
    task_id: taskId,
    trace_id: traceId,
    span_id: evaluation.spanId,
    event_index: evaluation.eventIndex,
    name: evaluation.name,
    score_value: evaluation.value,
    score_label: evaluation.label,
    explanation: evaluation.explanation,
    response_id: evaluation.responseId,
    evaluated_at: evaluation.evaluatedAt,
  }));
}

/** The spans whose arrival changes a task: its agent span, its steps. */
function memberSpanIds(task: MappedTask): string[] {
  return [task.agentSpanId, ...task.nodes.map((node) => node.spanId)];
}

function toSpanRecord(projectId: string, span: OtlpSpan, link: SpanLink | undefined): SpanRecord {
  return {
    project_id: projectId,
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start_time_unix_nano: span.startTimeUnixNano.toString(),
    end_time_unix_nano: span.endTimeUnixNano.toString(),
    status_code: span.status.code,
    status_message: span.status.message,
    attributes: span.attributes,
    resource: span.resource,
    scope_name: span.scope.name,
    scope_version: span.scope.version,
    events: span.events.map((event) => ({
      name: event.name,
      time_unix_nano: event.timeUnixNano.toString(),
      attributes: event.attributes,
    })),
    // A Vercel AI SDK call is a step until it is known that no agent span is above it.
    role: link?.role ?? (classifySpan(span) === 'agent' ? 'agent' : 'step'),
    task_id: link?.task_id ?? null,
    conversation_id: link?.conversation_id ?? null,
  };
}

function toMappableSpan(row: StoredSpanRow): MappableSpan {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    name: row.name,
    startTimeUnixNano: BigInt(row.start_time_unix_nano),
    endTimeUnixNano: BigInt(row.end_time_unix_nano),
    attributes: row.attributes as Attributes,
    resource: row.resource as Attributes,
    events: row.events.map((event) => ({
      name: event.name,
      timeUnixNano: BigInt(event.time_unix_nano),
      attributes: event.attributes as Attributes,
    })),
    status: { code: row.status_code as 0 | 1 | 2, message: row.status_message },
  };
}

function cachesOf(ctx: AppContext): ProjectCaches {
  let caches = projectCaches.get(ctx);
  if (!caches) {
    const created = new ProjectCaches(ctx.db);
    // Whichever process changed categories or agents, this one drops what it cached of them.
    ctx.events.subscribe((event) => {
      if (event.type === 'categories' || event.type === 'agents') created.clear();
    });
    projectCaches.set(ctx, created);
    caches = created;
  }
  return caches;
}

/** The seed's line for each task scored, once committed. */
function logScoresSaved(ctx: AppContext, outcome: IngestOutcome): void {
  for (const task of outcome.created)
    ctx.log.info({ task_id: task.id }, `Performance score saved for task ${task.id}`);
}

/** The live events of one project's ingested tasks: each task, and its agents' statistics. */
function describeChanges(projectId: string, outcome: IngestOutcome): LiveEvent[] {
  const changed = [...outcome.created, ...outcome.updated];
  if (changed.length === 0) return [];
  return [
    ...changed.map((task): LiveEvent => ({ type: 'task', projectId, userId: task.userId, taskId: task.id })),
    { type: 'leaderboard', projectId, agentIds: [...new Set(changed.map((task) => task.agentId))] },
  ];
}

function summarizeReasons(reasons: readonly string[]): string {
  if (reasons.length <= MAX_REASONS) return reasons.join('; ');
  return `${reasons.slice(0, MAX_REASONS).join('; ')}; and ${reasons.length - MAX_REASONS} more`;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
