import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, ObjectiveTemplatesTable, TemplateRow } from '../db/database.js';

export async function listCategoryTemplates(db: Kysely<Database>, projectId: string): Promise<TemplateRow[]> {
  return db
    .selectFrom('objective_templates')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('category')
    .execute();
}

export async function findCategoryTemplate(
  db: Kysely<Database>,
  projectId: string,
  category: string,
): Promise<TemplateRow | undefined> {
  return db
    .selectFrom('objective_templates')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('category', '=', category)
    .executeTakeFirst();
}

/** Inserts a template; undefined when the project already has the category. */
export async function insertCategoryTemplate(
  db: Kysely<Database>,
  template: Insertable<ObjectiveTemplatesTable>,
): Promise<TemplateRow | undefined> {
  return db
    .insertInto('objective_templates')
    .values(template)
    .onConflict((oc) => oc.columns(['project_id', 'category']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Updates a template (and its updated_at); undefined when the project has no such category. */
export async function updateCategoryTemplate(
  db: Kysely<Database>,
  projectId: string,
  category: string,
  changes: Updateable<ObjectiveTemplatesTable>,
): Promise<TemplateRow | undefined> {
  return db
    .updateTable('objective_templates')
    .set({ ...changes, updated_at: new Date() })
    .where('project_id', '=', projectId)
    .where('category', '=', category)
    .returningAll()
    .executeTakeFirst();
}

/** Which of these agent ids the project does not have. */
export async function findMissingAgentIds(
  db: Kysely<Database>,
  projectId: string,
  agentIds: readonly string[],
): Promise<string[]> {
  if (agentIds.length === 0) return [];
  const rows = await db
    .selectFrom('agents')
    .select('agent_id')
    .where('project_id', '=', projectId)
    .where('agent_id', 'in', agentIds)
    .execute();
  const known = new Set(rows.map((row) => row.agent_id));
  return agentIds.filter((agentId) => !known.has(agentId));
}
