import type { Kysely } from 'kysely';
import { DEFAULT_ROSTER } from '../agents/roster.js';
import { DEFAULT_CATEGORY_TEMPLATES } from '../routing/classifier.js';
import type { Database } from './database.js';

/**
 * Inserts the default agent team and objective categories where they are missing. Existing rows are
 * left alone, so a user's edits survive restarts; running it again changes nothing.
 */
export async function ensureDefaultData(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('agents')
    .values(
      DEFAULT_ROSTER.map((agent) => ({
        agent_id: agent.agentId,
        nickname: agent.nickname,
        display_name: agent.displayName,
        role: agent.role,
        specializations: agent.specializations,
        is_reviewer: agent.isReviewer,
        is_orchestrator: agent.isOrchestrator,
        system_prompt: agent.systemPrompt,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  await db
    .insertInto('objective_templates')
    .values(
      DEFAULT_CATEGORY_TEMPLATES.map((template) => ({
        category: template.category,
        display_name: template.category.charAt(0).toUpperCase() + template.category.slice(1),
        description: template.description,
        evaluation_criteria: JSON.stringify(template.evaluation_criteria),
        keywords: template.keywords,
        example_commands: template.example_commands,
        recommended_agents: template.recommended_agents,
        typical_tokens: template.typical_tokens,
        typical_duration_ms: template.typical_duration_ms,
        is_builtin: true,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}
