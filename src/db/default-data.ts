import { type Kysely, sql } from 'kysely';
import { DEFAULT_ROSTER } from '../agents/roster.js';
import { DEFAULT_PROJECT_ID } from '../identity/scope.js';
import { DEFAULT_CATEGORY_TEMPLATES } from '../routing/classifier.js';
import type { Database } from './database.js';

/**
 * Inserts the default agent team and objective categories into a project (the default one unless
 * given) where they are missing. Existing rows are
 * left alone, so a user's edits survive restarts; running it again changes nothing.
 */
export async function ensureDefaultData(
  db: Kysely<Database>,
  projectId: string = DEFAULT_PROJECT_ID,
): Promise<void> {
  await db
    .insertInto('agents')
    .values(
      DEFAULT_ROSTER.map((agent) => ({
        project_id: projectId,
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
        project_id: projectId,
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

/**
 * Inserts a category row for every category that stored rows still name but `objective_templates` no
 * longer has (the table was dropped and recreated empty), so the rows keep their category and their
 * foreign keys can be validated again. Returns the categories restored.
 */
export async function restoreReferencedCategories(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ category: string }>`
    INSERT INTO objective_templates (project_id, category, display_name)
    SELECT project_id, category, upper(left(category, 1)) || substr(category, 2)
    FROM (
      SELECT project_id, objective_category AS category FROM tasks
      UNION SELECT project_id, objective_category FROM agent_performance_scores
      UNION SELECT project_id, objective_category FROM agent_category_stats
      UNION SELECT project_id, category FROM routing_decisions
    ) AS referenced
    WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = referenced.project_id)
    ON CONFLICT (project_id, category) DO NOTHING
    RETURNING category
  `.execute(db);
  return rows.map((row) => row.category).sort();
}
