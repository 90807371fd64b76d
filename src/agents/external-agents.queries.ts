import type { Kysely } from 'kysely';
import type { AgentRow, Database } from '../db/database.js';

/** What an admin may change of an external agent (Merit never runs it, so no prompt or model). */
export interface ExternalAgentChanges {
  display_name?: string | undefined;
  role?: string | undefined;
  specializations?: string[] | undefined;
  active?: boolean | undefined;
}

/** Changes an external agent of the project; undefined when the project has no such external agent. */
export async function updateExternalAgent(
  db: Kysely<Database>,
  projectId: string,
  agentId: string,
  changes: ExternalAgentChanges,
): Promise<AgentRow | undefined> {
  return db
    .updateTable('agents')
    .set(changes)
    .where('project_id', '=', projectId)
    .where('agent_id', '=', agentId)
    .where('origin', '=', 'external')
    .returningAll()
    .executeTakeFirst();
}
