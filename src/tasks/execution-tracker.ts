import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import type { CategorySource, Database, FailureReason, TaskRow, TemplateRow } from '../db/database.js';
import { retryOnConflict } from '../db/transaction.js';
import { ConflictError, MeritError, NotFoundError, ValidationError } from '../errors.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../evaluation/scores.js';
import type { EventBus, LiveEvent } from '../events/event-bus.js';
import { type Emit, PendingEvents, runTransactionWithEvents } from '../events/transactional-events.js';
import { endUserId } from '../identity/end-user.js';
import type { Scope } from '../identity/scope.js';
import type { Log } from '../lib/log.js';
import { DEFAULT_REWARD_CONFIG } from '../rewards/reward-rules.js';
import { applyStatsChanges, type StatsChange } from '../stats/stats.queries.js';
import { buildFinishedTaskRecord } from './finished-task-record.js';
import { dedupeEntries, FinishedTaskWriter, type WriteEntry } from './finished-task-writer.js';
import { ProjectCaches } from './project-caches.js';
import {
  computeFinishedContribution,
  type EfficiencyReference,
  type FinishedTaskScore,
  readTypicalWork,
  type ScoringRules,
  scoreFinishedTask,
  toNewScore,
} from './scoring.js';
import type {
  CompleteTaskInput,
  CreateTaskInput,
  FailTaskInput,
  FinishedTaskInput,
  NodeInput,
} from './task-schemas.js';
import {
  measureElapsedMs,
  resolveUsage,
  type TaskView,
  toFinishedNodeRecord,
  toNewNode,
  toNodeView,
  toScoreView,
  toTaskView,
  toUsageNode,
  type UsageFigures,
} from './tasks.js';
import {
  enqueueJobs,
  type FinishedNodeRecord,
  type FinishedTaskRecord,
  findNextNodeSequence,
  findNodesForTask,
  findScoreForTask,
  findTaskForUpdate,
  findTaskInScope,
  findTasksOutsideScope,
  insertFinishedTasks,
  insertNodes,
  insertScores,
  insertTask,
  type TaskJobSpec,
  updateTask,
} from './tasks.queries.js';

export const GENERAL_CATEGORY = 'general';
/** Requests of at most this many tasks may share a statement with other requests. */
const SHARED_WRITE_MAX_TASKS = 50;
const SHARED_WRITES_IN_FLIGHT = 2;
const MAX_TASKS_PER_SHARED_STATEMENT = 500;

type FinishedEntry = WriteEntry<FinishedTaskRecord, FinishedNodeRecord>;

export interface Classification {
  category: string;
  confidence: number | null;
  source: CategorySource;
}

/** Classifies a command without an explicit category (the intelligence layer plugs in its classifier). */
export type CommandClassifier = (
  projectId: string,
  command: string,
  templates: readonly TemplateRow[],
) => Classification | Promise<Classification>;

/** What a job planner knows of a finished task. */
export type FinishedTaskInfo = Pick<
  TaskRow,
  'id' | 'status' | 'agent_id' | 'objective_category' | 'user_id' | 'project_id'
>;

/** Decides which background jobs each finished task needs (evaluation, review...). Pure and fast. */
export type FinishedTaskJobPlanner = (tasks: readonly FinishedTaskInfo[]) => TaskJobSpec[];

export interface ExecutionTrackerOptions {
  classify?: CommandClassifier;
  /** Jobs enqueued in the same statement or transaction as the write that finishes their task. */
  planJobs?: FinishedTaskJobPlanner;
  /** The pool behind `db`, for the prepared statement of the high-volume path. */
  pool?: pg.Pool;
  /**
   * Overall-score weights and reward rules (Config.evaluation's, parsed once); a failed task gets the
   * failure penalty on its score row. Defaults when absent.
   */
  scoring?: ScoringRules;
  /**
   * Where the tracker's live events go: each is sent in the transaction of its write (every process gets
   * it if and only if the write commits) and reaches this bus's subscribers after the commit.
   */
  events?: EventBus;
  /** Where "Performance score saved for task <id>" goes when a task's score row is created. */
  log?: Log;
  now?: () => Date;
}

export interface BatchResult {
  accepted: number;
  duplicates: number;
  task_ids: string[];
}

const defaultClassifier: CommandClassifier = () => ({
  category: GENERAL_CATEGORY,
  confidence: null,
  source: 'default',
});

/**
 * The task lifecycle: create, start, record nodes, complete or fail, and report finished tasks in
 * bulk. Completion creates the task's score row exactly once (onTaskComplete) and updates the agent's
 * statistics in the same transaction. The tracker orchestrates only: it loads what scoring needs
 * (ProjectCaches), calls the pure functions of ./scoring.ts, and saves their result.
 */
export class ExecutionTracker {
  readonly db: Kysely<Database>;
  private readonly classify: CommandClassifier;
  private readonly planJobs: FinishedTaskJobPlanner;
  private readonly pool: pg.Pool | undefined;
  private readonly writer: FinishedTaskWriter<FinishedTaskRecord, FinishedNodeRecord>;
  private readonly rules: ScoringRules;
  private readonly events: EventBus | undefined;
  private readonly log: Log | undefined;
  private readonly now: () => Date;
  /** Per project, in this process; invalidated across processes by events (src/events/). */
  private readonly caches: ProjectCaches;

  constructor(db: Kysely<Database>, options: ExecutionTrackerOptions = {}) {
    this.db = db;
    this.caches = new ProjectCaches(db);
    this.classify = options.classify ?? defaultClassifier;
    this.planJobs = options.planJobs ?? (() => []);
    this.pool = options.pool;
    this.writer = new FinishedTaskWriter((entries) => this.writeFinished(entries), {
      maxInFlight: SHARED_WRITES_IN_FLIGHT,
      maxTasksPerStatement: MAX_TASKS_PER_SHARED_STATEMENT,
    });
    this.rules = options.scoring ?? { weights: DEFAULT_OVERALL_WEIGHTS, rewards: DEFAULT_REWARD_CONFIG };
    this.events = options.events;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
  }

  async createTask(
    scope: Scope,
    input: CreateTaskInput,
    options: {
      source?: 'api' | 'mission_control';
      simulated?: boolean;
      classification?: Classification;
      /**
       * Runs in the transaction that inserts the task (not for a re-sent id): enqueue the job that
       * executes it here, so that a task never exists without its job, nor a job without its task.
       */
      onCreated?: (trx: Kysely<Database>, task: TaskRow) => Promise<void>;
    } = {},
  ): Promise<TaskView> {
    const nickname = await this.requireAgent(scope.projectId, input.agent_id);
    const classification =
      options.classification ??
      (await this.resolveCategory(scope.projectId, input.command, input.objective_category));
    const now = this.now();
    const { onCreated } = options;
    const row = await this.write(async (trx, emit) => {
      const inserted = await insertTask(trx, {
        ...(input.id ? { id: input.id } : {}),
        project_id: scope.projectId,
        user_id: endUserId(scope.projectId, input.user_id) ?? scope.userId,
        agent_id: input.agent_id,
        command: input.command,
        objective_category: classification.category,
        category_confidence: classification.confidence,
        category_source: classification.source,
        status: input.status,
        model: input.model ?? null,
        simulated: options.simulated ?? false,
        source: options.source ?? 'api',
        created_at: now,
        started_at: input.status === 'running' ? now : null,
      });
      if (!inserted) return undefined;
      if (onCreated) await onCreated(trx, inserted);
      emit(taskChanged(inserted));
      return inserted;
    });
    if (!row) {
      // A re-sent creation with the same id answers with the existing task; an id taken outside the
      // caller's view (another user's, another project's) is a conflict that tells nothing about it.
      const existing = await findTaskInScope(this.db, scope, input.id as string);
      if (!existing) throw new ConflictError('conflict', `A task with id ${input.id} already exists`);
      return this.getTask(scope, existing.id);
    }
    return toTaskView(row, nickname);
  }

  async startTask(scope: Scope, taskId: string, options: { currentNode?: string } = {}): Promise<TaskView> {
    const row = await this.write(async (trx, emit) => {
      const task = await this.requireTask(trx, scope, taskId, true);
      if (task.status === 'completed' || task.status === 'failed') {
        throw new ConflictError('task_already_finished', `Task ${taskId} is already ${task.status}`);
      }
      const started = await updateTask(trx, taskId, {
        status: 'running',
        started_at: task.started_at ?? this.now(),
        current_node: options.currentNode ?? task.current_node,
      });
      emit(taskChanged(started));
      return started;
    });
    return toTaskView(row, await this.nicknameOf(row.project_id, row.agent_id));
  }

  /** Records one node (step) of a running task; the task shows it as its current node. */
  async recordNode(scope: Scope, taskId: string, node: NodeInput) {
    const inserted = await this.write(async (trx, emit) => {
      const task = await this.requireTask(trx, scope, taskId, true);
      if (task.status === 'completed' || task.status === 'failed') {
        throw new ConflictError('task_already_finished', `Task ${taskId} is already ${task.status}`);
      }
      const sequence = await findNextNodeSequence(trx, taskId);
      const [row] = await insertNodes(trx, [toNewNode(task, node, sequence)]);
      await updateTask(trx, taskId, {
        status: 'running',
        started_at: task.started_at ?? this.now(),
        current_node: node.node_name,
      });
      emit(taskChanged(task));
      return row;
    });
    return toNodeView(inserted as NonNullable<typeof inserted>);
  }

  /** Marks the node a running task is in, without recording a finished node (for live progress). */
  async setCurrentNode(scope: Scope, taskId: string, nodeName: string): Promise<void> {
    await this.write(async (trx, emit) => {
      const row = await trx
        .updateTable('tasks')
        .set({ current_node: nodeName, last_activity_at: sql<Date>`now()` })
        .where('id', '=', taskId)
        .where('project_id', '=', scope.projectId)
        .$if(scope.ownTasksOnly, (query) => query.where('user_id', '=', scope.userId))
        .where('status', 'in', ['queued', 'running'])
        .returning(['project_id', 'user_id', 'id'])
        .executeTakeFirst();
      if (row) emit(taskChanged(row));
    });
  }

  /**
   * Completes a task and runs onTaskComplete in the same transaction. Completing an already completed
   * task (a retry, or two concurrent sends) returns it unchanged: the row lock makes the second wait and
   * then see the first one's result.
   */
  async completeTask(scope: Scope, taskId: string, input: CompleteTaskInput): Promise<TaskView> {
    const finished = await this.write(async (trx, emit) => {
      const task = await this.requireTask(trx, scope, taskId, true);
      if (task.status === 'completed') return undefined;
      if (task.status === 'failed')
        throw new ConflictError('task_already_finished', `Task ${taskId} has failed`);
      const usage = resolveUsage(await this.completionUsage(trx, task, input), task.model);
      const now = this.now();
      const durationMs = input.duration_ms ?? measureElapsedMs(task.started_at ?? task.created_at, now);
      const completed = await updateTask(trx, taskId, {
        status: 'completed',
        result: input.result,
        current_node: null,
        model: usage.model,
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.totalTokens,
        estimated_cost: usage.estimatedCost,
        duration_ms: durationMs,
        started_at: task.started_at ?? task.created_at,
        completed_at: now,
      });
      await this.appendNodes(trx, completed, input.nodes ?? []);
      await this.onTaskComplete(trx, completed);
      emit(...taskFinished(completed));
      return completed;
    });
    if (finished) this.logScoreSaved('info', finished.id);
    return this.getTask(scope, taskId);
  }

  /**
   * The usage figures a completion is resolved from. Token figures in the body are the task's (the agent
   * runner sends the sums of the nodes it recorded); without any, the task sums the nodes recorded
   * before (like a failure does) and the body's nodes.
   */
  private async completionUsage(
    trx: Kysely<Database>,
    task: TaskRow,
    input: CompleteTaskInput,
  ): Promise<UsageFigures> {
    const explicit =
      input.prompt_tokens !== undefined ||
      input.completion_tokens !== undefined ||
      input.total_tokens !== undefined;
    if (explicit) return input;
    const recorded = (await findNodesForTask(trx, task.id)).map(toUsageNode);
    if (recorded.length === 0) return input;
    return { ...input, nodes: [...recorded, ...(input.nodes ?? [])] };
  }

  /**
   * Fails a task with the usage of its nodes; `usageUnknown` (a failed call that may have been billed
   * without reporting usage) leaves its tokens and cost unknown instead.
   */
  async failTask(
    scope: Scope,
    taskId: string,
    input: FailTaskInput,
    options: { usageUnknown?: boolean } = {},
  ): Promise<TaskView> {
    const failed = await this.write(async (trx, emit) => {
      const task = await this.requireTask(trx, scope, taskId, true);
      if (task.status === 'failed') return undefined;
      if (task.status === 'completed')
        throw new ConflictError('task_already_finished', `Task ${taskId} is completed`);
      const row = await this.finishAsFailed(trx, task, input, 'error', options.usageUnknown ?? false);
      emit(...taskFinished(row));
      return row;
    });
    if (failed) this.logScoreSaved('info', failed.id);
    return this.getTask(scope, taskId);
  }

  /**
   * Fails a queued or running task with reason `timed_out` if it has shown no activity since `idleSince`
   * (checked under the task's lock: a node recorded a moment ago keeps it alive). True when it failed.
   */
  async failIdleTask(taskId: string, idleSince: Date, timeoutMinutes: number): Promise<boolean> {
    const failed = await this.write(async (trx, emit) => {
      const task = await findTaskForUpdate(trx, taskId);
      if (!task || (task.status !== 'queued' && task.status !== 'running')) return undefined;
      if (new Date(task.last_activity_at) > idleSince) return undefined;
      const error = `timed_out: no node or status change for ${timeoutMinutes} minutes`;
      const row = await this.finishAsFailed(trx, task, { error }, 'timed_out');
      emit(...taskFinished(row));
      return row;
    });
    if (failed) this.logScoreSaved('info', failed.id);
    return failed !== undefined;
  }

  private async finishAsFailed(
    trx: Kysely<Database>,
    task: TaskRow,
    input: FailTaskInput,
    reason: FailureReason,
    usageUnknown = false,
  ): Promise<TaskRow> {
    const now = this.now();
    // The steps that ran before the failure were paid for: the task keeps their tokens and cost.
    const recorded = (await findNodesForTask(trx, task.id)).map(toUsageNode);
    const summed = resolveUsage({ nodes: [...recorded, ...(input.nodes ?? [])] }, task.model);
    const usage = usageUnknown
      ? { ...summed, promptTokens: null, completionTokens: null, totalTokens: null, estimatedCost: null }
      : summed;
    const row = await updateTask(trx, task.id, {
      status: 'failed',
      error: input.error,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.totalTokens,
      estimated_cost: usage.estimatedCost,
      failure_reason: reason,
      current_node: null,
      duration_ms: input.duration_ms ?? measureElapsedMs(task.started_at ?? task.created_at, now),
      started_at: task.started_at ?? task.created_at,
      completed_at: now,
    });
    await this.appendNodes(trx, row, input.nodes ?? []);
    const score = scoreFinishedTask(
      { status: 'failed', totalTokens: row.total_tokens, durationMs: row.duration_ms, userRating: null },
      undefined,
      this.rules,
    );
    await this.saveScore(trx, row, score);
    return row;
  }

  /** One transaction whose live events are sent in it and delivered here after its commit. */
  private write<T>(work: (trx: Transaction<Database>, emit: Emit) => Promise<T>): Promise<T> {
    return runTransactionWithEvents(this.db, this.events, work);
  }

  /**
   * Records tasks that finished elsewhere, in one transaction: one request for many tasks (backfills,
   * busy hosts). Tasks whose id was already recorded are skipped and counted as duplicates.
   */
  async recordFinishedTasks(
    scope: Scope,
    inputs: readonly FinishedTaskInput[],
    options: { source?: 'api' | 'batch' | 'demo'; simulated?: boolean } = {},
  ): Promise<BatchResult> {
    const now = this.now();
    await this.refuseIdsOutsideScope(scope, inputs, options.source === 'api' ? '' : 'tasks.');
    const entries: FinishedEntry[] = [];
    for (const [index, input] of inputs.entries()) {
      const prefix = options.source === 'api' ? '' : `tasks.${index}.`;
      await this.requireAgent(scope.projectId, input.agent_id, `${prefix}agent_id`);
      const classification = await this.resolveCategory(
        scope.projectId,
        input.command,
        input.objective_category,
        `${prefix}objective_category`,
      );
      const reference =
        input.status === 'completed'
          ? await this.loadEfficiencyReference(this.db, scope.projectId, classification.category)
          : undefined;
      const record = buildFinishedTaskRecord(
        input,
        { scope, classification, now, ...options },
        reference,
        this.rules,
      );
      const nodes = (input.nodes ?? []).map((node, sequence) =>
        toFinishedNodeRecord(toNewNode(record, node, sequence)),
      );
      entries.push({ record, nodes });
    }
    // Small requests share statements under load; large batches are a statement of their own.
    const shared = entries.length <= SHARED_WRITE_MAX_TASKS;
    const inserted = shared
      ? await this.writer.submit(entries)
      : await this.writeFinished(dedupeEntries(entries));
    // A line per task of a large batch (backfills, seed-demo) would flood the log at info level.
    // An id sent twice in one request is one task: one line.
    for (const id of new Set(entries.map((entry) => entry.record.id)))
      if (inserted.has(id)) this.logScoreSaved(shared ? 'info' : 'debug', id);
    return {
      accepted: inserted.size,
      duplicates: entries.length - inserted.size,
      task_ids: entries.map((entry) => entry.record.id),
    };
  }

  /**
   * An id already taken outside the caller's view (another project's task, or in local mode another
   * user's) is a conflict for the whole request: it is never counted as the caller's duplicate, and
   * nothing of the request is written.
   */
  private async refuseIdsOutsideScope(
    scope: Scope,
    inputs: readonly FinishedTaskInput[],
    fieldPrefix: string,
  ): Promise<void> {
    const ids = inputs.map((input) => input.id).filter((id): id is string => id !== undefined);
    if (ids.length === 0) return;
    const taken = await findTasksOutsideScope(this.db, scope, ids);
    if (taken.size === 0) return;
    const index = inputs.findIndex((input) => input.id !== undefined && taken.has(input.id));
    const field = fieldPrefix === '' ? 'id' : `${fieldPrefix}${index}.id`;
    throw new MeritError('conflict', `${field}: task id ${inputs[index]?.id} is already taken`, {
      details: { field },
    });
  }

  /**
   * One statement for finished tasks, their scores, nodes, statistics, jobs and live events: the
   * statement itself sends one leaderboard change per project (naming the agents of every task it was
   * given) if it inserted any task, so the change reaches every process exactly when it commits.
   */
  private async writeFinished(entries: readonly FinishedEntry[]): Promise<ReadonlySet<string>> {
    const records = entries.map((entry) => entry.record);
    const nodes = entries.flatMap((entry) => entry.nodes);
    const events = new PendingEvents(this.events);
    for (const record of records)
      events.emit({ type: 'leaderboard', projectId: record.project_id, agentIds: [record.agent_id] });
    // One statement is one transaction: a deadlock victim is simply sent again (its ids were not inserted).
    const inserted = await retryOnConflict(() =>
      insertFinishedTasks(this.db, records, nodes, this.planJobs(records), this.pool, events.payloads()),
    );
    if (inserted.length > 0) events.deliver();
    return new Set(inserted.map((row) => row.id));
  }

  async getTask(scope: Scope, taskId: string): Promise<TaskView> {
    const task = await this.requireTask(this.db, scope, taskId, false);
    const [nodes, score] = await Promise.all([
      findNodesForTask(this.db, taskId),
      findScoreForTask(this.db, taskId),
    ]);
    return {
      ...toTaskView(task, await this.nicknameOf(task.project_id, task.agent_id)),
      nodes: nodes.map(toNodeView),
      score: score ? toScoreView(score) : null,
    };
  }

  /**
   * Drops cached templates, agents and baselines (after a template changes), in this process; the other
   * processes drop theirs when the `categories` event reaches them through PostgreSQL (src/events/).
   */
  invalidateCaches(): void {
    this.caches.clear();
  }

  /**
   * The seed's on_task_complete: creates the completed task's performance score row (exactly once: the
   * row is keyed by task) with its efficiency score, and updates statistics.
   */
  private async onTaskComplete(trx: Kysely<Database>, task: TaskRow): Promise<void> {
    // The transaction's own connection: waiting for a second pooled connection while holding one
    // deadlocks the pool as soon as every connection is held by a request doing the same.
    const reference = await this.loadEfficiencyReference(trx, task.project_id, task.objective_category);
    const score = scoreFinishedTask(
      { status: 'completed', totalTokens: task.total_tokens, durationMs: task.duration_ms, userRating: null },
      reference,
      this.rules,
    );
    await this.saveScore(trx, task, score);
  }

  /** Inserts a task's score row, enqueues its jobs and adds it to its agent's statistics. */
  private async saveScore(trx: Kysely<Database>, task: TaskRow, score: FinishedTaskScore): Promise<void> {
    const saved = await insertScores(trx, [toNewScore(task, score)]);
    const changes: StatsChange[] = [
      {
        projectId: task.project_id,
        userId: task.user_id,
        agentId: task.agent_id,
        category: task.objective_category,
        // A score row that already existed is not this write's: the task adds no score figures.
        delta: computeFinishedContribution(task, saved.length > 0 ? score : null),
      },
    ];
    // Statistics last: their rows are shared by every write of the agent, so their locks are held for
    // the last statement and the commit only (STATS_LOCK_ORDER).
    await enqueueJobs(trx, this.planJobs([task]));
    await applyStatsChanges(trx, changes);
  }

  private async appendNodes(
    trx: Kysely<Database>,
    task: TaskRow,
    nodes: readonly NodeInput[],
  ): Promise<void> {
    if (nodes.length === 0) return;
    const first = await findNextNodeSequence(trx, task.id);
    await insertNodes(
      trx,
      nodes.map((node, index) => toNewNode(task, node, first + index)),
    );
  }

  private async requireTask(db: Kysely<Database>, scope: Scope, taskId: string, forUpdate: boolean) {
    const task = await findTaskInScope(db, scope, taskId, { forUpdate });
    if (!task) throw new NotFoundError('task_not_found', `Task ${taskId} not found`);
    return task;
  }

  private async requireAgent(projectId: string, agentId: string, field = 'agent_id'): Promise<string> {
    let agent = (await this.caches.agents(projectId)).get(agentId);
    if (!agent) {
      this.caches.forgetAgents(projectId);
      agent = (await this.caches.agents(projectId)).get(agentId);
    }
    if (!agent) throw new ValidationError(field, `no agent with id '${agentId}'`);
    if (!agent.active) throw new ValidationError(field, `agent '${agentId}' is not active`);
    return agent.nickname;
  }

  private async nicknameOf(projectId: string, agentId: string): Promise<string | null> {
    return (await this.caches.agents(projectId)).get(agentId)?.nickname ?? null;
  }

  private async resolveCategory(
    projectId: string,
    command: string,
    explicit: string | undefined,
    field = 'objective_category',
  ): Promise<Classification> {
    let templates = await this.caches.templates(projectId);
    if (explicit !== undefined) {
      if (!templates.has(explicit)) {
        this.caches.forgetTemplates(projectId);
        templates = await this.caches.templates(projectId);
      }
      if (!templates.has(explicit))
        throw new ValidationError(field, `unknown objective category '${explicit}'`);
      return { category: explicit, confidence: 1, source: 'explicit' };
    }
    const classification = await this.classify(projectId, command, [...templates.values()]);
    return templates.has(classification.category)
      ? classification
      : { category: GENERAL_CATEGORY, confidence: classification.confidence, source: 'default' };
  }

  /**
   * The category's template values and baseline, for efficiency. `db` is the caller's transaction when
   * it holds one: this never waits for a second connection.
   */
  private async loadEfficiencyReference(
    db: Kysely<Database>,
    projectId: string,
    category: string,
  ): Promise<EfficiencyReference> {
    const typical = readTypicalWork((await this.caches.templates(projectId, db)).get(category));
    return { baseline: await this.caches.baseline(db, projectId, category, typical), typical };
  }

  /** The seed guide's line, once a task's score row is committed. */
  private logScoreSaved(level: 'info' | 'debug', taskId: string): void {
    this.log?.[level]({ task_id: taskId }, `Performance score saved for task ${taskId}`);
  }
}

function taskChanged(task: Pick<TaskRow, 'project_id' | 'user_id' | 'id'>): LiveEvent {
  return { type: 'task', projectId: task.project_id, userId: task.user_id, taskId: task.id };
}

/** A finished task changed itself and its agent's statistics. */
function taskFinished(task: TaskRow): LiveEvent[] {
  return [taskChanged(task), { type: 'leaderboard', projectId: task.project_id, agentIds: [task.agent_id] }];
}
