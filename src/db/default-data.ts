import { type Kysely, sql } from 'kysely';
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

/**
 * Inserts a category row for every category that stored rows still name but `objective_templates` no
 * longer has (the table was dropped and recreated empty), so the rows keep their category and their
 * foreign keys can be validated again. Returns the categories restored.
 */
export async function restoreReferencedCategories(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ category: string }>`
    INSERT INTO objective_templates (category, display_name)
    SELECT category, upper(left(category, 1)) || substr(category, 2)
    FROM (
      SELECT objective_category AS category FROM tasks
      UNION SELECT objective_category FROM agent_performance_scores
      UNION SELECT objective_category FROM agent_category_stats
      UNION SELECT category FROM routing_decisions
    ) AS referenced
    ON CONFLICT (category) DO NOTHING
    RETURNING category
  `.execute(db);
  return rows.map((row) => row.category).sort();
}
