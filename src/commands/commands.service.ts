import type { Kysely } from 'kysely';
import { chooseAgentModel } from '../agents/agent-runner.js';
import { RUN_AGENT_TASK_MAX_ATTEMPTS } from '../agents/agents.jobs.js';
import { findAgent, insertRunAgentTaskJob } from '../agents/agents.queries.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { ValidationError } from '../errors.js';
import type { Scope } from '../identity/scope.js';
import type { ObjectiveRequest } from '../routing/routing.js';
import { linkDecisionToTask, routeCommand } from '../routing/routing.service.js';
import type { ExecutionTracker } from '../tasks/execution-tracker.js';
import type { TaskView } from '../tasks/tasks.js';
import { parseCommand } from './commands.js';

export interface CommandServices {
  db: Kysely<Database>;
  tracker: ExecutionTracker;
  config: Pick<Config, 'llm'>;
}

/**
 * Mission Control's use case: checks the command's leading `@nickname`, lets the router choose the agent
 * (the mentioned one, or the best one for the command's category) and creates the queued task together
 * with the job that runs it, in one transaction. The agent runs in the background worker. An external
 * agent is never run: mentioning one is refused (`ExternalAgentError`) and the router never picks one.
 */
export async function submitCommand(
  services: CommandServices,
  scope: Scope,
  command: string,
  options: { objective?: ObjectiveRequest } = {},
): Promise<TaskView> {
  const { db, tracker, config } = services;
  const parsed = parseCommand(command);
  // The router refuses an unknown or inactive mention (400, naming the known agents).
  if (parsed.mention !== null && parsed.text === '') {
    throw new ValidationError('command', `says nothing for @${parsed.mention} to do`);
  }
  const decision = await routeCommand(db, {
    scope,
    command,
    ...(options.objective ? { objective: options.objective } : {}),
  });
  const agent = await findAgent(db, scope.projectId, decision.agentId);
  const simulated = config.llm === undefined;
  return tracker.createTask(
    scope,
    {
      agent_id: decision.agentId,
      command,
      status: 'queued',
      model: chooseAgentModel(config.llm, { nickname: decision.nickname, model: agent?.model ?? null }),
    },
    {
      source: 'mission_control',
      simulated,
      classification: {
        category: decision.category,
        confidence: decision.categoryConfidence,
        source: decision.categorySource,
      },
      onCreated: async (trx, task) => {
        await linkDecisionToTask(trx, { scope, decisionId: decision.decisionId, taskId: task.id });
        await insertRunAgentTaskJob(
          trx,
          { taskId: task.id, projectId: task.project_id, userId: task.user_id },
          RUN_AGENT_TASK_MAX_ATTEMPTS,
        );
      },
    },
  );
}
