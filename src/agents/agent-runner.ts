import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { parseCommand } from '../commands/commands.js';
import type { Config, LlmSettings } from '../config.js';
import type { AgentRow, Database } from '../db/database.js';
import { LlmError } from '../errors.js';
import {
  RATE_LIMIT_WINDOW_SECONDS,
  rateLimitBuckets,
  recordRateLimitUsage,
} from '../identity/rate-limits.js';
import type { Scope } from '../identity/scope.js';
import {
  createConfiguredLlmProvider,
  type LlmLog,
  type LlmResponse,
  spendOfError,
  spendOfResponse,
} from '../llm/provider.js';
import type { ExecutionTracker } from '../tasks/execution-tracker.js';
import type { NodeInput } from '../tasks/task-schemas.js';
import type { TaskView } from '../tasks/tasks.js';
import { countEarlierRuns, findAgent } from './agents.queries.js';
import { SIMULATED_MODEL, simulateRun } from './simulated-team.js';

/** Which task to run, in which project, for which user (a `run_agent_task` job's payload). */
export interface RunTarget {
  taskId: string;
  projectId: string;
  userId: string;
}

export interface AgentRunnerOptions {
  db: Kysely<Database>;
  tracker: ExecutionTracker;
  config: Pick<Config, 'llm' | 'simulationSeed' | 'simulationSpeed'>;
  /** Where failed LLM calls are logged with their details (the task's error keeps only the reason). */
  log?: LlmLog;
}

interface StepUsage {
  /** Null when the provider reported no usage: unknown, not free. */
  promptTokens: number | null;
  completionTokens: number | null;
  /** The step's reported duration; the measured wall-clock time when omitted. */
  durationMs?: number;
  /** The model that answered the step's call and the provider's protocol (the node's model and provider). */
  model?: string;
  provider?: string;
}

interface Step {
  name: string;
  work: (signal: AbortSignal | undefined) => Promise<StepUsage>;
}

// A simulated step never keeps a worker busy for long, whatever its reported duration.
const MAX_SIMULATED_DELAY_MS = 5000;
const PLAN_MAX_TOKENS = 400;
const ANSWER_MAX_TOKENS = 2000;

/** A step that failed after a reported duration (the simulated team's failures). */
class StepError extends Error {
  readonly durationMs: number;
  readonly taskDurationMs: number;

  constructor(message: string, durations: { step: number; task: number }) {
    super(message);
    this.name = 'StepError';
    this.durationMs = durations.step;
    this.taskDurationMs = durations.task;
  }
}

/** The agent itself failed (provider down, timeout, an agent error): the task ends as failed. */
class AgentFailure extends Error {
  readonly node: NodeInput;
  readonly taskDurationMs: number | undefined;
  /** The failed step's calls may have been billed without reporting usage: the task's usage is unknown. */
  readonly usageUnknown: boolean;

  constructor(
    message: string,
    node: NodeInput,
    options: { cause: unknown; taskDurationMs?: number; usageUnknown?: boolean },
  ) {
    super(message, { cause: options.cause });
    this.name = 'AgentFailure';
    this.node = node;
    this.taskDurationMs = options.taskDurationMs;
    this.usageUnknown = options.usageUnknown ?? false;
  }
}

/**
 * Executes a Mission Control task the way an external host would, through the ExecutionTracker: start,
 * then for each node mark it current (live progress), do the work and record it, then complete with the
 * result, model and token usage (the tracker prices it). With an LLM configured each agent runs its own
 * system prompt on its own model; without one, the simulated team answers.
 *
 * An agent's failure fails the task with the reason. Any other error (database, shutdown) is thrown so
 * the job is retried; a finished task is left alone, so a retried job never completes a task twice.
 */
export class AgentRunner {
  private readonly db: Kysely<Database>;
  private readonly tracker: ExecutionTracker;
  private readonly config: AgentRunnerOptions['config'];
  private readonly log: LlmLog | undefined;

  constructor(options: AgentRunnerOptions) {
    this.db = options.db;
    this.tracker = options.tracker;
    this.config = options.config;
    this.log = options.log;
  }

  async run(target: RunTarget, options: { signal?: AbortSignal } = {}): Promise<TaskView> {
    const scope: Scope = { projectId: target.projectId, userId: target.userId, ownTasksOnly: false };
    const task = await this.tracker.getTask(scope, target.taskId);
    if (task.status === 'completed' || task.status === 'failed') return task;
    const finished = await this.execute(task, scope, options);
    // What the run cost counts toward the project's LLM budget of the day (MERIT_LLM_SPEND_PER_DAY_USD).
    if (finished.estimated_cost !== null && finished.estimated_cost > 0) {
      await recordRateLimitUsage(this.db, {
        bucket: rateLimitBuckets.projectLlmSpend(target.projectId),
        windowSeconds: RATE_LIMIT_WINDOW_SECONDS.llmSpend,
        amount: finished.estimated_cost,
      });
    }
    return finished;
  }

  private async execute(task: TaskView, scope: Scope, options: { signal?: AbortSignal }): Promise<TaskView> {
    const target = { taskId: task.id };
    const agent = await findAgent(this.db, scope.projectId, task.agent_id);
    if (!agent?.active) {
      return this.tracker.failTask(scope, target.taskId, {
        error: `Agent ${task.nickname ? `@${task.nickname}` : task.agent_id} is not available any more.`,
      });
    }
    try {
      if (this.config.llm) await this.runWithLlm(task, scope, agent, this.config.llm, options.signal);
      else await this.runSimulated(task, scope, agent, options.signal);
    } catch (error) {
      if (!(error instanceof AgentFailure)) throw error;
      return this.tracker.failTask(
        scope,
        target.taskId,
        {
          error: error.message,
          nodes: [error.node],
          ...(error.taskDurationMs === undefined ? {} : { duration_ms: error.taskDurationMs }),
        },
        { usageUnknown: error.usageUnknown },
      );
    }
    return this.tracker.getTask(scope, target.taskId);
  }

  /** Plans, then answers: two calls of the agent's own system prompt on the agent's model. */
  private async runWithLlm(
    task: TaskView,
    scope: Scope,
    agent: AgentRow,
    llm: LlmSettings,
    signal?: AbortSignal,
  ) {
    const model = chooseAgentModel(llm, agent);
    // Transient provider failures are retried inside the provider, within the configured budget.
    const log = this.log;
    const provider = createConfiguredLlmProvider(llm, {
      model,
      log: log && {
        warn: (fields, message) =>
          log.warn({ ...fields, task_id: task.id, agent_id: agent.agent_id }, message),
      },
    });
    const request = parseCommand(task.command).text || task.command;
    let plan = '';
    let answer = { text: '', model };
    await this.executeSteps(
      task,
      scope,
      [
        {
          name: 'plan',
          work: async (stepSignal) => {
            const response = await provider.complete({
              system: agent.system_prompt,
              messages: [
                {
                  role: 'user',
                  content: `${request}\n\nBefore answering, write a short numbered plan (at most 5 steps) of how you will handle this request. Do not answer it yet.`,
                },
              ],
              maxTokens: PLAN_MAX_TOKENS,
              ...(stepSignal ? { signal: stepSignal } : {}),
            });
            plan = response.text;
            return toStepUsage(response, llm.kind);
          },
        },
        {
          name: 'respond',
          work: async (stepSignal) => {
            const response = await provider.complete({
              system: agent.system_prompt,
              messages: [
                { role: 'user', content: request },
                { role: 'assistant', content: plan },
                {
                  role: 'user',
                  content: 'Now carry out your plan and give your complete answer, formatted in Markdown.',
                },
              ],
              maxTokens: ANSWER_MAX_TOKENS,
              ...(stepSignal ? { signal: stepSignal } : {}),
            });
            if (response.text.trim() === '') {
              throw new LlmError('llm_bad_response', `${model} answered with an empty message`, {
                retryable: false,
              });
            }
            answer = { text: response.text, model: response.model };
            return toStepUsage(response, llm.kind);
          },
        },
      ],
      signal,
    );
    await this.complete(task, scope, { result: answer.text, model: answer.model });
  }

  /** Replays the simulated agent's run node by node, with its delays scaled down by the simulation speed. */
  private async runSimulated(task: TaskView, scope: Scope, agent: AgentRow, signal?: AbortSignal) {
    const runKey = await countEarlierRuns(this.db, {
      id: task.id,
      projectId: scope.projectId,
      userId: task.user_id,
      agentId: task.agent_id,
      command: task.command,
      createdAt: new Date(task.created_at),
    });
    const run = simulateRun({
      agent: { agentId: agent.agent_id, nickname: agent.nickname, specializations: agent.specializations },
      command: task.command,
      category: task.objective_category,
      seed: this.config.simulationSeed,
      runKey: String(runKey),
    });
    // A retried job resumes after the nodes an earlier attempt recorded: the run is deterministic.
    const recorded = task.nodes?.length ?? 0;
    const steps = run.nodes.map(
      (node, index): Step => ({
        name: node.node_name,
        work: async (stepSignal) => {
          const delay = Math.min(MAX_SIMULATED_DELAY_MS, node.duration_ms / this.config.simulationSpeed);
          await sleep(delay, undefined, stepSignal ? { signal: stepSignal } : {});
          if (!run.success && index === run.nodes.length - 1)
            throw new StepError(run.error ?? 'Simulated failure', {
              step: node.duration_ms,
              task: run.duration_ms,
            });
          return {
            promptTokens: node.prompt_tokens,
            completionTokens: node.completion_tokens,
            durationMs: node.duration_ms,
            model: SIMULATED_MODEL,
          };
        },
      }),
    );
    await this.executeSteps(task, scope, steps.slice(recorded), signal);
    await this.complete(task, scope, {
      result: run.result,
      model: SIMULATED_MODEL,
      durationMs: run.duration_ms,
    });
  }

  private async executeSteps(
    task: TaskView,
    scope: Scope,
    steps: readonly Step[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (const [index, step] of steps.entries()) {
      if (index === 0) await this.tracker.startTask(scope, task.id, { currentNode: step.name });
      else await this.tracker.setCurrentNode(scope, task.id, step.name);
      const startedAt = new Date();
      let usage: StepUsage;
      try {
        usage = await step.work(signal);
      } catch (error) {
        // A shutdown is not the agent's fault: the job is retried when a worker runs again.
        if (signal?.aborted) throw error;
        const reason = describeStepFailure(step.name, error);
        // What the failed step's LLM calls cost: an error status was not billed; a timeout or an
        // unreadable answer may have been, without usage, which leaves the task's usage unknown.
        const spend = error instanceof StepError ? undefined : spendOfError(error);
        const known = spend !== undefined && spend.unmeteredCalls === 0 ? spend.usage : null;
        throw new AgentFailure(
          reason,
          {
            node_name: step.name,
            duration_ms: error instanceof StepError ? error.durationMs : Date.now() - startedAt.getTime(),
            ...(typeof known?.promptTokens === 'number' ? { prompt_tokens: known.promptTokens } : {}),
            ...(typeof known?.completionTokens === 'number'
              ? { completion_tokens: known.completionTokens }
              : {}),
            success: false,
            error: reason,
            started_at: startedAt.toISOString(),
          },
          error instanceof StepError
            ? { cause: error, taskDurationMs: error.taskDurationMs }
            : { cause: error, usageUnknown: (spend?.unmeteredCalls ?? 0) > 0 },
        );
      }
      await this.tracker.recordNode(scope, task.id, {
        node_name: step.name,
        duration_ms: usage.durationMs ?? Date.now() - startedAt.getTime(),
        ...(usage.promptTokens === null ? {} : { prompt_tokens: usage.promptTokens }),
        ...(usage.completionTokens === null ? {} : { completion_tokens: usage.completionTokens }),
        ...(usage.model === undefined ? {} : { model: usage.model }),
        ...(usage.provider === undefined ? {} : { provider: usage.provider }),
        success: true,
        started_at: startedAt.toISOString(),
      });
    }
  }

  /** Completes the task with the tokens of every node it recorded (all attempts: each was paid for). */
  private async complete(
    task: TaskView,
    scope: Scope,
    outcome: { result: string; model: string; durationMs?: number },
  ) {
    const nodes = (await this.tracker.getTask(scope, task.id)).nodes ?? [];
    await this.tracker.completeTask(scope, task.id, {
      result: outcome.result,
      model: outcome.model,
      ...sumKnownNodeTokens(nodes),
      ...(outcome.durationMs === undefined ? {} : { duration_ms: outcome.durationMs }),
    });
  }
}

/**
 * The model an agent runs on: its MERIT_AGENT_MODELS entry, else the model stored on the agent, else the
 * configured default; `simulated` when no LLM is configured.
 */
export function chooseAgentModel(
  llm: LlmSettings | undefined,
  agent: Pick<AgentRow, 'nickname' | 'model'>,
): string {
  if (!llm) return SIMULATED_MODEL;
  return llm.agentModels[agent.nickname] ?? agent.model ?? llm.model;
}

function describeStepFailure(step: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // The simulated team's own failures already name their step.
  return error instanceof LlmError ? `The '${step}' step failed: ${message}` : message;
}

// A response without usage leaves the step's tokens unknown (null), never 0.
/**
 * A step's tokens over every call it made, retries included: unknown when any call may have been billed
 * without reporting usage (a timeout retried before the answer), not just the answer's own figures.
 */
function toStepUsage(response: LlmResponse, provider: string): StepUsage {
  const spend = spendOfResponse(response);
  const known = spend.unmeteredCalls === 0 && spend.usage !== null;
  return {
    promptTokens: known ? (spend.usage?.promptTokens ?? null) : null,
    completionTokens: known ? (spend.usage?.completionTokens ?? null) : null,
    model: response.model,
    provider,
  };
}

/** The task's tokens from its nodes; a count any node lacks is unknown for the task, so it is left out. */
function sumKnownNodeTokens(
  nodes: readonly { prompt_tokens: number | null; completion_tokens: number | null }[],
) {
  const sum = (key: 'prompt_tokens' | 'completion_tokens') =>
    nodes.length > 0 && nodes.every((node) => node[key] !== null)
      ? { [key]: nodes.reduce((total, node) => total + (node[key] ?? 0), 0) }
      : {};
  return { ...sum('prompt_tokens'), ...sum('completion_tokens') };
}
