import type { Insertable, Kysely, Updateable } from 'kysely';
import type { Database, ObjectiveTemplatesTable, TemplateRow } from '../db/database.js';

export async function listCategoryTemplates(db: Kysely<Database>): Promise<TemplateRow[]> {
  return db.selectFrom('objective_templates').selectAll().orderBy('category').execute();
}

export async function findCategoryTemplate(
  db: Kysely<Database>,
  category: string,
): Promise<TemplateRow | undefined> {
  return db.selectFrom('objective_templates').selectAll().where('category', '=', category).executeTakeFirst();
}

/** Inserts a template; undefined when the category already exists. */
export async function insertCategoryTemplate(
  db: Kysely<Database>,
  template: Insertable<ObjectiveTemplatesTable>,
): Promise<TemplateRow | undefined> {
  return db
    .insertInto('objective_templates')
    .values(template)
    .onConflict((oc) => oc.column('category').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Updates a template (and its updated_at); undefined when there is no such category. */
export async function updateCategoryTemplate(
  db: Kysely<Database>,
  category: string,
  changes: Updateable<ObjectiveTemplatesTable>,
): Promise<TemplateRow | undefined> {
  return db
    .updateTable('objective_templates')
    .set({ ...changes, updated_at: new Date() })
    .where('category', '=', category)
    .returningAll()
    .executeTakeFirst();
}

/** Which of these agent ids do not exist. */
export async function findMissingAgentIds(
  db: Kysely<Database>,
  agentIds: readonly string[],
): Promise<string[]> {
  if (agentIds.length === 0) return [];
  const rows = await db.selectFrom('agents').select('agent_id').where('agent_id', 'in', agentIds).execute();
  const known = new Set(rows.map((row) => row.agent_id));
  return agentIds.filter((agentId) => !known.has(agentId));
}
