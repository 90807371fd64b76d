import { type Kysely, sql } from 'kysely';
import type {
  Database,
  NewNode,
  NewScore,
  NewTask,
  NodeRow,
  ScoreRow,
  TaskRow,
  TaskUpdate,
  TemplateRow,
} from '../db/database.js';

export async function insertTask(db: Kysely<Database>, task: NewTask): Promise<TaskRow | undefined> {
  return db
    .insertInto('tasks')
    .values(task)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Inserts many tasks; rows whose id already exists are skipped (idempotent re-sends). */
export async function insertTasks(db: Kysely<Database>, tasks: NewTask[]): Promise<TaskRow[]> {
  if (tasks.length === 0) return [];
  return db
    .insertInto('tasks')
    .values(tasks)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .execute();
}

/** A user's task; another user's task is treated exactly like a missing one. */
export async function findTaskForUser(
  db: Kysely<Database>,
  userId: string,
  taskId: string,
  options: { forUpdate?: boolean } = {},
): Promise<TaskRow | undefined> {
  let query = db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('user_id', '=', userId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function updateTask(
  db: Kysely<Database>,
  taskId: string,
  changes: TaskUpdate,
): Promise<TaskRow> {
  return db
    .updateTable('tasks')
    .set(changes)
    .where('id', '=', taskId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listTasksForUser(
  db: Kysely<Database>,
  userId: string,
  options: { limit: number; before?: Date | undefined },
): Promise<(TaskRow & { nickname: string })[]> {
  let query = db
    .selectFrom('tasks as t')
    .innerJoin('agents as a', 'a.agent_id', 't.agent_id')
    .selectAll('t')
    .select('a.nickname')
    .where('t.user_id', '=', userId);
  if (options.before) query = query.where('t.created_at', '<', options.before);
  return query.orderBy('t.created_at', 'desc').orderBy('t.id', 'desc').limit(options.limit).execute();
}

export async function findNodesForTask(db: Kysely<Database>, taskId: string): Promise<NodeRow[]> {
  return db
    .selectFrom('agent_node_performance')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('sequence')
    .execute();
}

export async function findNextNodeSequence(db: Kysely<Database>, taskId: string): Promise<number> {
  const row = await db
    .selectFrom('agent_node_performance')
    .select((eb) => eb.fn.max('sequence').as('max_sequence'))
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return row?.max_sequence === null || row?.max_sequence === undefined ? 0 : Number(row.max_sequence) + 1;
}

export async function insertNodes(db: Kysely<Database>, nodes: NewNode[]): Promise<NodeRow[]> {
  if (nodes.length === 0) return [];
  return db.insertInto('agent_node_performance').values(nodes).returningAll().execute();
}

export async function findScoreForTask(
  db: Kysely<Database>,
  taskId: string,
  options: { forUpdate?: boolean } = {},
): Promise<ScoreRow | undefined> {
  let query = db.selectFrom('agent_performance_scores').selectAll().where('task_id', '=', taskId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Inserts score rows; a task that already has one keeps it (exactly one score row per task). */
export async function insertScores(db: Kysely<Database>, scores: NewScore[]): Promise<ScoreRow[]> {
  if (scores.length === 0) return [];
  return db
    .insertInto('agent_performance_scores')
    .values(scores)
    .onConflict((oc) => oc.column('task_id').doNothing())
    .returningAll()
    .execute();
}

export async function findAgentNicknames(
  db: Kysely<Database>,
): Promise<Map<string, { nickname: string; active: boolean }>> {
  const rows = await db.selectFrom('agents').select(['agent_id', 'nickname', 'active']).execute();
  return new Map(rows.map((row) => [row.agent_id, { nickname: row.nickname, active: row.active }]));
}

export async function findTemplates(db: Kysely<Database>): Promise<TemplateRow[]> {
  return db.selectFrom('objective_templates').selectAll().orderBy('category').execute();
}

/** ln(tokens) + ln(duration) of the category's most recent completed tasks, for its efficiency baseline. */
export async function findRecentLogWork(
  db: Kysely<Database>,
  category: string,
  limit: number,
): Promise<number[]> {
  const rows = await sql<{ x: number }>`
    SELECT ln(greatest(total_tokens, 1)) + ln(greatest(duration_ms, 1)) AS x
    FROM tasks
    WHERE objective_category = ${category} AND status = 'completed'
      AND total_tokens IS NOT NULL AND duration_ms IS NOT NULL
    ORDER BY completed_at DESC
    LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((row) => Number(row.x));
}
